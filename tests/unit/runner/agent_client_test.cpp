// AgentClient against a FakeAgent on a socketpair.
#include "fake_agent.h"

#include <agent_client.h>
#include <stream_buffer.h>

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

TEST(AgentClient, HelloRestoredSendsEntropyAndClockWithHello) {
  AgentPair pair = make_agent_pair();
  AgentClient client(std::move(pair.client_fd));
  const AgentHello hello = client.hello_restored(wire::agent::PROTOCOL_VERSION, std::string("\x01\x02\x03", 3),
                                                 1800000000123456789, Deadline::after(kGenerous));
  EXPECT_EQ(hello.agent_version, "fake-1");
  EXPECT_EQ(pair.agent->entropy(), std::vector<std::string>{std::string("\x01\x02\x03", 3)});
  EXPECT_EQ(client.clock_get(Deadline::after(kGenerous)), 1800000000123456789);
}

TEST(AgentClient, HelloRestoredNamesTheRequestTheAgentRefused) {
  AgentPair pair = make_agent_pair();
  AgentClient client(std::move(pair.client_fd));
  try {
    client.hello_restored(wire::agent::PROTOCOL_VERSION, "", 1800000000000000000, Deadline::after(kGenerous));
    FAIL() << "expected the empty addEntropy to be refused";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::remote);
    EXPECT_STREQ(error.what(), "addEntropy: no entropy given");
  }
  // clockSet went out with the others and ran; its late answer does not
  // confuse the next call.
  EXPECT_EQ(client.clock_get(Deadline::after(kGenerous)), 1800000000000000000);
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

TEST(AgentClient, PathOps) {
  AgentPair pair = make_agent_pair();
  AgentClient client(std::move(pair.client_fd));
  const Deadline deadline = Deadline::after(kGenerous);
  client.mkdir("/d/e", true, 0700, deadline);
  EXPECT_EQ(pair.agent->dirs().at("/d/e"), 0700u);
  EXPECT_EQ(pair.agent->dirs().at("/d"), 0755u);
  client.write_file("/d/f", "12345", 0644, deadline);
  const GuestStat stat = client.stat("/d/f", deadline);
  EXPECT_EQ(stat.size, 5u);
  EXPECT_EQ(stat.mtime_ns, 1700000000123456789);
  EXPECT_EQ(stat.perm, 0644u);
  EXPECT_EQ(stat.entry_type, "file");
  EXPECT_EQ(client.stat("/d/e", deadline).entry_type, "directory");
  const auto entries = client.listdir("/d", deadline);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "e");
  EXPECT_EQ(entries[0].entry_type, "directory");
  EXPECT_EQ(entries[1].name, "f");
  client.rename("/d/f", "/d/g", deadline);
  EXPECT_EQ(client.read_file("/d/g", deadline), "12345");
  client.unlink("/d/g", deadline);
  try {
    client.stat("/d/g", deadline);
    FAIL() << "expected ENOENT";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::remote);
    EXPECT_EQ(error.remote_errno(), ENOENT);
  }
  try {
    client.mkdir("/d/e", false, 0755, deadline);
    FAIL() << "expected EEXIST";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.remote_errno(), EEXIST);
  }
}

std::string patterned(std::size_t size) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + i % 26);
  return text;
}

TEST(AgentClient, StreamDataFlowsAsCreditIsGranted) {
  AgentPair pair = make_agent_pair();
  const std::string content = patterned(3 * kStreamWindow + 123);
  pair.agent->put_file("/big", content);
  AgentClient client(std::move(pair.client_fd));
  const Deadline deadline = Deadline::after(kGenerous);
  const StreamOpened opened = client.read_file_stream("/big", deadline);
  EXPECT_EQ(opened.size, content.size());
  EXPECT_EQ(client.open_stream_count(), 1u);
  std::string got;
  for (;;) {
    std::string chunk = client.stream_read(opened.key, 4096, deadline);
    if (chunk.empty()) break;
    EXPECT_LE(client.stream_buffered(opened.key), kStreamWindow);
    got += chunk;
  }
  EXPECT_EQ(got, content);
  ASSERT_TRUE(client.stream_ending(opened.key));
  EXPECT_FALSE(client.stream_ending(opened.key)->failed);
  // Without more grants than were consumed the fake could not have sent it all.
  EXPECT_GE(pair.agent->credit_granted() + kStreamWindow, content.size());
  EXPECT_LE(pair.agent->credit_granted(), content.size());
  client.stream_close(opened.key, deadline);
  EXPECT_EQ(client.open_stream_count(), 0u);
}

TEST(AgentClient, StreamEventsArriveWhileOtherCallsWait) {
  AgentPair pair = make_agent_pair();
  const std::string content = patterned(2 * kStreamWindow);
  pair.agent->put_file("/big", content);
  AgentClient client(std::move(pair.client_fd));
  const Deadline deadline = Deadline::after(kGenerous);
  const StreamOpened opened = client.read_file_stream("/big", deadline);
  // The window's worth of data is routed into the buffer while ping waits.
  client.ping(deadline);
  EXPECT_EQ(client.stream_buffered(opened.key), kStreamWindow);
  EXPECT_EQ(client.stream_read(opened.key, 10, deadline), content.substr(0, 10));
  // Not yet due: half a window has not been consumed and data is buffered.
  client.ping(deadline);
  EXPECT_EQ(pair.agent->credit_granted(), 0u);
  // Closing early: the agent forgets it; data in flight is dropped here.
  client.stream_close(opened.key, deadline);
  EXPECT_EQ(client.open_stream_count(), 0u);
  client.ping(deadline);
  try {
    client.stream_read(opened.key, 10, deadline);
    FAIL() << "expected a closed stream to be unknown";
  } catch (const std::logic_error&) {
  }
}

TEST(AgentClient, ClosingAStreamThatEndedMeanwhileIsFine) {
  AgentPair pair = make_agent_pair();
  pair.agent->put_file("/small", "abc");
  AgentClient client(std::move(pair.client_fd));
  const StreamOpened opened = client.read_file_stream("/small", Deadline::after(kGenerous));
  // The end is already on its way; the client has not read it yet.
  client.stream_close(opened.key, Deadline::after(kGenerous));
  EXPECT_EQ(client.open_stream_count(), 0u);
  client.ping(Deadline::after(kGenerous));
}

TEST(AgentClient, StreamEndsAndTimeouts) {
  AgentPair pair = make_agent_pair();
  pair.agent->put_file("/small", "abc");
  AgentClient client(std::move(pair.client_fd));
  const StreamOpened opened = client.read_file_stream("/small", Deadline::after(kGenerous));
  EXPECT_EQ(client.stream_read(opened.key, 100, Deadline::after(kGenerous)), "abc");
  EXPECT_EQ(client.stream_read(opened.key, 100, Deadline::after(kGenerous)), "");  // ended: at once
  // A tail never ends by itself: reading past its data waits for the deadline.
  const StreamOpened tail = client.tail_file("/small", false, 0, Deadline::after(kGenerous));
  EXPECT_EQ(client.stream_read(tail.key, 100, Deadline::after(kGenerous)), "abc");
  try {
    client.stream_read(tail.key, 100, Deadline::after(std::chrono::milliseconds(50)));
    FAIL() << "expected a timeout";
  } catch (const AgentError& error) {
    EXPECT_EQ(error.kind(), AgentError::Kind::timeout);
  }
  client.ping(Deadline::after(kGenerous));  // a timed-out stream read leaves the client usable
}

TEST(StreamBuffer, WindowAndGrants) {
  StreamBuffer buffer(8);
  EXPECT_TRUE(buffer.append("12345678", false));
  EXPECT_FALSE(buffer.append("9", false));  // past the credit window
  EXPECT_EQ(buffer.take(3), "123");
  EXPECT_FALSE(buffer.due_grant());          // data left and < half a window
  EXPECT_EQ(buffer.take(100), "45678");
  EXPECT_EQ(buffer.due_grant(), 8u);         // ran dry: grant all consumed
  EXPECT_TRUE(buffer.append("abc", true));
  EXPECT_TRUE(buffer.saw_truncation());
}

}  // namespace
}  // namespace provium::runner::testing
