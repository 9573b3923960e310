// Spawned processes and streams against the real agent binary: stdin and
// signals, waits, credit-based flow control, tails (appends, truncation),
// fdStream and readFileStream.
#include "agent_protocol_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <cstring>

namespace {

using namespace std::chrono_literals;
using namespace provium::agent_test;
namespace wire = provium::wire::agent;

constexpr std::uint64_t kWindow = 1u << 20;

void append_host_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::app) << text;
}

// The agent's peak resident memory, from /proc.
std::uint64_t peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

class Streams : public AgentProtocol {
 protected:
  wire::ProcessStarted::Reader started(const Response& response) {
    EXPECT_TRUE(response->isProcessStarted()) << error_text(response);
    return response->getProcessStarted();
  }
  std::uint64_t stream_of(const Response& response) {
    EXPECT_TRUE(response->isStreamStarted()) << error_text(response);
    return response->isStreamStarted() ? response->getStreamStarted().getStream() : 0;
  }
  std::string next_data(std::uint64_t stream, std::chrono::milliseconds limit = 60s, bool* truncated = nullptr) {
    return client_->next_data(stream, limit, truncated);
  }
};

TEST_F(Streams, ASpawnedCatEchoesWhatIsWrittenToItsStdin) {
  auto process = client_->spawn({.argv = {"cat"}, .stdin_data = "first\n"}, kWindow);
  const auto proc = started(process);
  EXPECT_GT(proc.getPid(), 0);
  EXPECT_NE(proc.getStdoutStream(), proc.getStderrStream());
  auto written = client_->process_write(proc.getProcess(), "second\n");
  ASSERT_TRUE(written->isWritten()) << error_text(written);
  EXPECT_EQ(written->getWritten(), 7u);
  EXPECT_TRUE(client_->process_close_stdin(proc.getProcess())->isDone());
  auto late = client_->process_write(proc.getProcess(), "too late");
  EXPECT_EQ(late->getError().getErrno(), EPIPE);

  auto out = client_->read_stream(proc.getStdoutStream(), kWindow, kWindow);
  EXPECT_EQ(out.data, "first\nsecond\n");
  EXPECT_EQ(out.reason, wire::StreamEndReason::SOURCE_ENDED);
  auto err = client_->read_stream(proc.getStderrStream(), kWindow, kWindow);
  EXPECT_EQ(err.data, "");
  EXPECT_TRUE(err.ended);

  auto exit = client_->process_wait(proc.getProcess(), std::nullopt);
  ASSERT_TRUE(exit->isProcessState()) << error_text(exit);
  EXPECT_FALSE(exit->getProcessState().getRunning());
  EXPECT_EQ(exit->getProcessState().getStatus(), wire::RunStatus::EXITED);
  EXPECT_EQ(exit->getProcessState().getExitCode(), 0);
  // Once reported, the process is forgotten.
  auto again = client_->process_wait(proc.getProcess(), std::nullopt);
  ASSERT_TRUE(again->isError());
  EXPECT_EQ(again->getError().getErrno(), ESRCH);
  EXPECT_EQ(error_text(again), "processWait: no process " + std::to_string(proc.getProcess()) +
                                   " (never spawned, or its exit was already reported): No such process");
}

TEST_F(Streams, WaitsTimeOutPollAndSeeSignals) {
  const auto spawned = client_->spawn({.argv = {"sleep", "30"}}, 0);
  auto proc = started(spawned);
  auto poll = client_->process_wait(proc.getProcess(), 0);
  EXPECT_TRUE(poll->getProcessState().getRunning());
  const auto before = std::chrono::steady_clock::now();
  auto timed_out = client_->process_wait(proc.getProcess(), 200);
  EXPECT_TRUE(timed_out->getProcessState().getRunning());
  EXPECT_GE(std::chrono::steady_clock::now() - before, 190ms);

  const auto forever = client_->send([&](wire::Request::Builder r) {
    auto wait = r.initProcessWait();
    wait.setProcess(proc.getProcess());
    wait.setForever(true);
  });
  EXPECT_TRUE(client_->process_signal(proc.getProcess(), SIGTERM)->isDone());
  auto exit = client_->wait(forever, 60s);
  ASSERT_TRUE(exit->isProcessState()) << error_text(exit);
  EXPECT_EQ(exit->getProcessState().getStatus(), wire::RunStatus::SIGNALLED);
  EXPECT_EQ(exit->getProcessState().getExitCode(), -1);
  EXPECT_EQ(exit->getProcessState().getSignal(), SIGTERM);
  EXPECT_EQ(client_->process_signal(proc.getProcess(), SIGTERM)->getError().getErrno(), ESRCH);
}

TEST_F(Streams, ASignalCanReachTheWholeGroup) {
  const std::string pid_file = scratch("child.pid");
  const auto spawned = client_->spawn({.argv = {"sh", "-c", "sleep 30 & echo $! > " + pid_file + "; wait"}}, 0);
  auto proc = started(spawned);
  for (int i = 0; i < 6000 && read_host_file(pid_file).empty(); ++i) std::this_thread::sleep_for(10ms);
  const pid_t child = std::stoi(read_host_file(pid_file));
  EXPECT_TRUE(client_->process_signal(proc.getProcess(), SIGKILL, true)->isDone());
  EXPECT_TRUE(wait_until_gone(child, 60s));
  EXPECT_EQ(client_->process_wait(proc.getProcess(), std::nullopt)->getProcessState().getSignal(), SIGKILL);
}

TEST_F(Streams, SpawnRefusesATimeoutAndUnknownProcessesAreNamed) {
  auto timeout = client_->spawn({.argv = {"true"}, .timeout_ms = 100}, 0);
  ASSERT_TRUE(timeout->isError());
  EXPECT_EQ(error_text(timeout),
            "spawn: timeoutMs must be 0; a spawned process has no deadline (give processWait one): Invalid argument");
  EXPECT_EQ(client_->process_write(42, "x")->getError().getErrno(), ESRCH);
  EXPECT_EQ(client_->process_close_stdin(42)->getError().getErrno(), ESRCH);
  EXPECT_EQ(error_text(client_->process_signal(42, SIGTERM)),
            "processSignal: no process 42 (never spawned, or its exit was already reported): No such process");
}

TEST_F(Streams, CreditBoundsWhatIsInFlightAndStopsTheSource) {
  constexpr std::uint64_t kTotal = 50'000'000;
  constexpr std::uint64_t kSmallWindow = 64 * 1024;
  const auto spawned = client_->spawn({.argv = {"head", "-c", std::to_string(kTotal), "/dev/zero"}}, kSmallWindow);
  auto proc = started(spawned);
  const auto out = proc.getStdoutStream();

  std::uint64_t received = 0;
  while (received < kSmallWindow) {
    auto data = next_data(out);
    ASSERT_FALSE(data.empty()) << "stream ended or stalled after " << received << " bytes";
    received += data.size();
    ASSERT_LE(received, kSmallWindow) << "the agent sent beyond the credit";
  }
  // Out of credit: nothing more is sent, and the agent does not read the
  // pipe either, so `head` stays blocked writing it.
  EXPECT_FALSE(client_->next_event(300ms).has_value());
  EXPECT_TRUE(client_->process_wait(proc.getProcess(), 0)->getProcessState().getRunning());

  const auto started_at = std::chrono::steady_clock::now();
  auto rest = client_->read_stream(out, 0, 256 * 1024);  // read_stream checks the bound on every frame
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count();
  EXPECT_EQ(received + rest.data.size(), kTotal);
  EXPECT_EQ(rest.reason, wire::StreamEndReason::SOURCE_ENDED);
  EXPECT_EQ(client_->process_wait(proc.getProcess(), std::nullopt)->getProcessState().getExitCode(), 0);
  std::cout << "50 MB of stdout through a 256 KiB window: " << static_cast<int>(kTotal / 1048576.0 / seconds)
            << " MiB/s; agent peak RSS " << peak_rss_kib(agent_->pid()) / 1024 << " MiB" << std::endl;
#ifndef __SANITIZE_ADDRESS__  // ASan's shadow memory and quarantine make RSS say nothing about buffering
  EXPECT_LT(peak_rss_kib(agent_->pid()), 32u * 1024) << "the agent buffered more than it should";
#endif
}

TEST_F(Streams, ATailSeesAppendsAndRestartsAfterTruncation) {
  const std::string path = scratch("log");
  write_host_file(path, "hello\n");
  auto tail = client_->tail_file(path, wire::TailOrigin::END, 0, kWindow);
  const auto stream = stream_of(tail);
  EXPECT_EQ(tail->getStreamStarted().getStartOffset(), 6u);
  EXPECT_EQ(tail->getStreamStarted().getSize(), 6u);
  EXPECT_FALSE(client_->next_event(200ms).has_value());  // nothing before the end

  append_host_file(path, "world\n");
  EXPECT_EQ(next_data(stream), "world\n");
  append_host_file(path, "more\n");
  EXPECT_EQ(next_data(stream), "more\n");

  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  append_host_file(path, "again\n");
  bool truncated = false;
  std::string after = next_data(stream, 60s, &truncated);
  EXPECT_TRUE(truncated);
  // The append may land before or after the agent notices the truncation.
  while (after.size() < 6) {
    const std::string more = next_data(stream);
    if (more.empty()) break;
    after += more;
  }
  EXPECT_EQ(after, "again\n");
  EXPECT_TRUE(client_->stream_close(stream)->isDone());
  append_host_file(path, "unseen\n");
  EXPECT_FALSE(client_->next_event(300ms).has_value());
}

TEST_F(Streams, ATailStartsWhereAsked) {
  const std::string path = scratch("log");
  write_host_file(path, "0123456789");
  auto from_start = client_->tail_file(path, wire::TailOrigin::BEGINNING, 0, kWindow);
  EXPECT_EQ(next_data(stream_of(from_start)), "0123456789");
  auto last_three = client_->tail_file(path, wire::TailOrigin::END, -3, kWindow);
  EXPECT_EQ(last_three->getStreamStarted().getStartOffset(), 7u);
  EXPECT_EQ(next_data(stream_of(last_three)), "789");
  auto clamped = client_->tail_file(path, wire::TailOrigin::END, -100, kWindow);
  EXPECT_EQ(clamped->getStreamStarted().getStartOffset(), 0u);
  auto past_end = client_->tail_file(path, wire::TailOrigin::BEGINNING, 100, kWindow);
  EXPECT_EQ(past_end->getStreamStarted().getStartOffset(), 10u);
  auto missing = client_->tail_file(scratch("missing"), wire::TailOrigin::END, 0, kWindow);
  EXPECT_EQ(error_text(missing), "tailFile `" + scratch("missing") + "`: No such file or directory");
}

TEST_F(Streams, AnFdStreamReadsFromTheHandlesCursorToTheEnd) {
  const std::string path = scratch("data");
  write_host_file(path, "0123456789");
  const auto handle = client_->open_file(path, wire::OPEN_READ)->getHandle();
  client_->file_seek(handle, 4, wire::SeekWhence::SET);
  auto started_stream = client_->fd_stream(handle, false, kWindow);
  EXPECT_EQ(started_stream->getStreamStarted().getStartOffset(), 4u);
  EXPECT_EQ(started_stream->getStreamStarted().getSize(), 10u);
  auto capture = client_->read_stream(stream_of(started_stream), kWindow, kWindow);
  EXPECT_EQ(capture.data, "456789");
  EXPECT_EQ(capture.reason, wire::StreamEndReason::SOURCE_ENDED);
  // The stream shares the handle's cursor.
  EXPECT_EQ(client_->file_tell(handle)->getOffset(), 10u);
  EXPECT_EQ(client_->fd_stream(999, false, 0)->getError().getErrno(), EBADF);
}

TEST_F(Streams, AFollowingFdStreamSeesAppends) {
  const std::string path = scratch("data");
  write_host_file(path, "start\n");
  const auto handle = client_->open_file(path, wire::OPEN_READ)->getHandle();
  const auto stream = stream_of(client_->fd_stream(handle, true, kWindow));
  EXPECT_EQ(next_data(stream), "start\n");
  append_host_file(path, "later\n");
  EXPECT_EQ(next_data(stream), "later\n");
}

TEST_F(Streams, ReadFileStreamDeliversALargeFileIntact) {
  const std::string path = scratch("big");
  std::string content(24u << 20, '\0');
  std::mt19937_64 random(42);
  for (std::size_t i = 0; i + 8 <= content.size(); i += 8) {
    const std::uint64_t word = random();
    std::memcpy(content.data() + i, &word, 8);
  }
  write_host_file(path, content);
  const auto before = std::chrono::steady_clock::now();
  auto opened = client_->read_file_stream(path, 4u << 20);
  EXPECT_EQ(opened->getStreamStarted().getSize(), content.size());
  auto capture = client_->read_stream(stream_of(opened), 4u << 20, 4u << 20);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - before).count();
  EXPECT_TRUE(capture.data == content) << "got " << capture.data.size() << " bytes";
  EXPECT_EQ(capture.reason, wire::StreamEndReason::SOURCE_ENDED);
  std::cout << "readFileStream of 24 MiB over a socketpair: " << static_cast<int>(24 / seconds) << " MiB/s" << std::endl;
  auto directory = client_->read_file_stream(scratch(), kWindow);
  EXPECT_EQ(error_text(directory), "readFileStream `" + scratch() + "`: Is a directory");
}

TEST_F(Streams, CreditForAnEndedOrUnknownStreamIsIgnoredAndCloseIsChecked) {
  client_->stream_credit(12345, 100);  // never answered
  EXPECT_TRUE(client_->ping()->isPong());
  auto close = client_->stream_close(12345);
  ASSERT_TRUE(close->isError());
  EXPECT_EQ(error_text(close), "streamClose: no stream 12345 was opened in this session: No such file or directory");
  write_host_file(scratch("f"), "x");
  const auto stream = stream_of(client_->read_file_stream(scratch("f"), kWindow));
  EXPECT_TRUE(client_->read_stream(stream, kWindow, kWindow).ended);
  client_->stream_credit(stream, 100);
  EXPECT_TRUE(client_->stream_close(stream)->isDone());  // ended streams close quietly
}

TEST_F(Streams, AStreamWithoutCreditSendsNothing) {
  write_host_file(scratch("f"), "held back");
  const auto stream = stream_of(client_->read_file_stream(scratch("f"), 0));
  EXPECT_FALSE(client_->next_event(300ms).has_value());
  client_->stream_credit(stream, 4);
  EXPECT_EQ(next_data(stream), "held");
  EXPECT_FALSE(client_->next_event(200ms).has_value());
  client_->stream_credit(stream, 100);
  EXPECT_EQ(next_data(stream), " back");
}

TEST_F(Streams, ANewSessionKillsSpawnedProcessesAndClosesStreams) {
  const auto spawned = client_->spawn({.argv = {"sleep", "30"}}, kWindow);
  auto proc = started(spawned);
  const pid_t pid = proc.getPid();
  EXPECT_TRUE(client_->hello()->isHelloOk());
  EXPECT_TRUE(wait_until_gone(pid, 60s)) << "spawned process " << pid << " survived the session";
  EXPECT_EQ(client_->process_wait(proc.getProcess(), 0)->getError().getErrno(), ESRCH);
  EXPECT_FALSE(client_->next_event(200ms).has_value());  // its streams are gone without events
}

}  // namespace
