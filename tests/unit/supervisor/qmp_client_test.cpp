// QmpClient against a socketpair; the test plays QEMU on the other end:
// commands written ahead of the greeting, batches answered in order, events
// kept while replies are read, errors only after every reply was read.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <kj/async-io.h>
#include <kj/io.h>
#include <nlohmann/json.hpp>

#include "qmp_client.h"

namespace provium {
namespace {

class QmpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int ends[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends), 0);
    qemu_ = std::make_unique<kj::AutoCloseFd>(ends[1]);
    client_ = std::make_unique<QmpClient>(io_->lowLevelProvider->wrapUnixSocketFd(kj::AutoCloseFd(ends[0])));
  }

  // What QEMU would say: whole lines, as one write.
  void qemu_says(const std::string& lines) {
    ASSERT_EQ(::write(qemu_->get(), lines.data(), lines.size()), static_cast<ssize_t>(lines.size()));
  }

  // The commands the client has written so far, one per line.
  std::vector<nlohmann::json> commands_written() {
    std::string text;
    char buffer[4096];
    for (;;) {
      const ssize_t got = ::recv(qemu_->get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (got <= 0) break;
      text.append(buffer, static_cast<std::size_t>(got));
    }
    std::vector<nlohmann::json> commands;
    std::size_t start = 0;
    for (auto end = text.find('\n'); end != std::string::npos; start = end + 1, end = text.find('\n', start)) {
      commands.push_back(nlohmann::json::parse(text.substr(start, end - start)));
    }
    return commands;
  }

  // Held by pointer: their destructors may throw, a gtest fixture's may not.
  std::unique_ptr<kj::AsyncIoContext> io_ = std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  std::unique_ptr<kj::AutoCloseFd> qemu_;
  std::unique_ptr<QmpClient> client_;
};

TEST_F(QmpClientTest, HandshakeWritesEverythingBeforeTheGreeting) {
  auto values = client_->handshake({QmpCommand{"query-status"}});
  // Nothing from QEMU yet, and every command is already on its way.
  EXPECT_FALSE(values.poll(io_->waitScope));
  const auto written = commands_written();
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0]["execute"], "qmp_capabilities");
  EXPECT_EQ(written[1]["execute"], "query-status");

  qemu_says(R"({"QMP": {"version": {}, "capabilities": []}})" "\n"
            R"({"return": {}})" "\n"
            R"({"event": "RESUME", "data": {}})" "\n"
            R"({"return": {"status": "running"}})" "\n");
  const auto result = values.wait(io_->waitScope);
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0]["status"], "running");
}

TEST_F(QmpClientTest, KeepsEventsThatArriveWithRepliesForNextEvent) {
  auto values = client_->execute_all({QmpCommand{"migrate-incoming", {{"uri", "fd:9"}}}});
  qemu_says(R"({"event": "MIGRATION", "data": {"status": "setup"}})" "\n"
            R"({"return": {}})" "\n"
            R"({"event": "MIGRATION", "data": {"status": "completed"}})" "\n");
  EXPECT_EQ(values.wait(io_->waitScope).size(), 1u);
  EXPECT_EQ(client_->next_event("MIGRATION").wait(io_->waitScope)["data"]["status"], "setup");
  // The second one was read along with the reply too.
  EXPECT_EQ(client_->next_event("MIGRATION").wait(io_->waitScope)["data"]["status"], "completed");
}

TEST_F(QmpClientTest, NextEventWaitsAndSkipsOtherEvents) {
  auto event = client_->next_event("RESUME");
  EXPECT_FALSE(event.poll(io_->waitScope));
  qemu_says(R"({"event": "RTC_CHANGE", "data": {}})" "\n"
            R"({"event": "RESUME", "data": {}})" "\n");
  EXPECT_EQ(event.wait(io_->waitScope)["event"], "RESUME");
}

TEST_F(QmpClientTest, AnErrorInABatchRejectsOnlyOnceEveryReplyIsRead) {
  auto values = client_->execute_all({QmpCommand{"cont"}, QmpCommand{"query-status"}});
  qemu_says(R"({"error": {"class": "GenericError", "desc": "no can do"}})" "\n"
            R"({"return": {"status": "paused"}})" "\n");
  try {
    values.wait(io_->waitScope);
    FAIL() << "the error reply did not reject";
  } catch (const kj::Exception& error) {
    EXPECT_NE(std::string(error.getDescription().cStr()).find("no can do"), std::string::npos);
  }
  // The batch's second reply was consumed: the next command gets its own.
  auto next = client_->execute("query-status");
  qemu_says(R"({"return": {"status": "running"}})" "\n");
  EXPECT_EQ(next.wait(io_->waitScope)["status"], "running");
}

TEST_F(QmpClientTest, QemuClosingTheMonitorRejects) {
  auto event = client_->next_event("MIGRATION");
  qemu_.reset();
  EXPECT_THROW(event.wait(io_->waitScope), kj::Exception);
}

}  // namespace
}  // namespace provium
