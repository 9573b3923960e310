// AgentClient against a FakeAgent on a socketpair.
#include "fake_agent.h"

#include <agent_client.h>

#include <gtest/gtest.h>

#include <sys/socket.h>

#include <chrono>

namespace provium::runner::testing {
namespace {

constexpr auto kGenerous = std::chrono::seconds(10);

TEST(AgentClient, HelloRunAndFiles) {
  AgentPair pair = make_agent_pair();
  AgentClient client(std::move(pair.client_fd));
  const AgentHello hello = client.hello(wire::agent::PROTOCOL_VERSION, Deadline::after(kGenerous));
  EXPECT_EQ(hello.protocol_version, wire::agent::PROTOCOL_VERSION);
  EXPECT_EQ(hello.agent_version, "fake-1");
  client.ping(Deadline::after(kGenerous));

  GuestCommand command;
  command.argv = {"/bin/sh", "-c", "echo hello"};
  command.env = {{"A", "1"}};
  command.timeout = Millis(1500);
  const CommandResult result = client.run(command, Deadline::after(kGenerous));
  EXPECT_EQ(result.status, CommandStatus::exited);
  EXPECT_EQ(result.stdout_data, "hello\n");
  const auto runs = pair.agent->runs();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].timeout_ms, 1500u);
  EXPECT_EQ(runs[0].env.at(0).first, "A");

  const std::string binary("\0\x01\xff data", 8);
  client.write_file("/tmp/f", binary, 0600, Deadline::after(kGenerous));
  EXPECT_EQ(client.read_file("/tmp/f", Deadline::after(kGenerous)), binary);
}

TEST(AgentClient, RemoteErrorsKeepTheClientUsable) {
  AgentPair pair = make_agent_pair();
  AgentClient client(std::move(pair.client_fd));
  try {
    client.read_file("/missing", Deadline::after(kGenerous));
    FAIL() << "expected an error";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::remote);
    EXPECT_EQ(error.remote_errno(), ENOENT);
    EXPECT_STREQ(error.what(), "No such file or directory");
  }
  client.ping(Deadline::after(kGenerous));
}

TEST(AgentClient, DropsAnswersWithUnknownIds) {
  AgentPair pair = make_agent_pair(AgentMisbehaviour::stray_reply_first);
  AgentClient client(std::move(pair.client_fd));
  client.hello(wire::agent::PROTOCOL_VERSION, Deadline::after(kGenerous));
  GuestCommand command;
  command.argv = {"/bin/sh", "-c", "echo again"};
  EXPECT_EQ(client.run(command, Deadline::after(kGenerous)).stdout_data, "again\n");
}

TEST(AgentClient, TimesOutAtTheDeadline) {
  AgentPair pair = make_agent_pair(AgentMisbehaviour::silent);
  AgentClient client(std::move(pair.client_fd));
  const auto started = std::chrono::steady_clock::now();
  try {
    client.ping(Deadline::after(std::chrono::milliseconds(100)));
    FAIL() << "expected a timeout";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::timeout);
  }
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, std::chrono::milliseconds(95));
  EXPECT_LT(waited, std::chrono::seconds(5));
}

TEST(AgentClient, EndOfStreamBreaksTheClient) {
  AgentPair pair = make_agent_pair(AgentMisbehaviour::close_after_hello);
  AgentClient client(std::move(pair.client_fd));
  client.hello(wire::agent::PROTOCOL_VERSION, Deadline::after(kGenerous));
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      client.ping(Deadline::after(kGenerous));
      FAIL() << "expected the channel to be closed";
    } catch (const AgentError& error) {
      EXPECT_EQ(error.kind(), AgentError::Kind::closed) << error.what();
    }
  }
}

TEST(AgentClient, GarbageIsAProtocolError) {
  AgentPair pair = make_agent_pair(AgentMisbehaviour::garbage_after_hello);
  AgentClient client(std::move(pair.client_fd));
  client.hello(wire::agent::PROTOCOL_VERSION, Deadline::after(kGenerous));
  try {
    client.ping(Deadline::after(kGenerous));
    FAIL() << "expected a protocol error";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::protocol) << error.what();
  }
  // Broken for good: the next call fails the same way without waiting.
  try {
    client.ping(Deadline::none());
    FAIL() << "expected a protocol error";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::protocol);
  }
}

TEST(AgentClient, OversizedFrameIsAProtocolError) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  kj::AutoCloseFd peer(fds[1]);
  AgentClient client{kj::AutoCloseFd(fds[0])};
  const unsigned char header[] = {0xff, 0xff, 0xff, 0x7f};
  ASSERT_EQ(send(peer.get(), header, sizeof header, 0), 4);
  try {
    client.ping(Deadline::after(kGenerous));
    FAIL() << "expected a protocol error";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::protocol);
    EXPECT_NE(std::string(error.what()).find("limit"), std::string::npos);
  }
}

}  // namespace
}  // namespace provium::runner::testing
