// ConsoleLog and ConsoleHub against a socketpair standing in for QEMU's
// console chardev: replay, live fan-out, bounded queues, input, EOF.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "console_hub.h"
#include "console_log.h"

namespace provium {
namespace {

TEST(ConsoleLog, KeepsEverythingWhileItFits) {
  ConsoleLog log(8, 8);
  log.append("abc");
  log.append("defghij");
  EXPECT_EQ(log.text(), "abcdefghij");
  EXPECT_EQ(log.tail(4), "ghij");
  EXPECT_EQ(log.tail(100), "abcdefghij");
  EXPECT_EQ(log.total_written(), 10u);
}

TEST(ConsoleLog, KeepsTheHeadAndTheTailAndCountsTheGap) {
  ConsoleLog log(4, 4);
  log.append("HEAD");
  log.append("middle-bytes");
  log.append("TAIL");
  EXPECT_EQ(log.text(), "HEAD\n[provium: 12 bytes of console output not kept]\nTAIL");
  EXPECT_EQ(log.tail(3), "AIL");
  EXPECT_EQ(log.total_written(), 20u);
}

TEST(ConsoleLog, LastLinesSpanHeadAndTail) {
  ConsoleLog log(6, 64);
  log.append("one\ntwo\nthree\n");
  EXPECT_EQ(log.last_lines(2), "two\nthree");
}

// The hub on one end of a socketpair; the test plays QEMU on the other.
struct HubFixture {
  kj::AsyncIoContext io = kj::setupAsyncIo();
  kj::AutoCloseFd guest_side;
  kj::Own<kj::AsyncIoStream> host_side;
  kj::Own<ConsoleHub> hub;
  kj::Promise<void> pump = nullptr;

  explicit HubFixture(bool with_input = true) {
    int ends[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends), 0);
    guest_side = kj::AutoCloseFd(ends[0]);
    host_side = io.lowLevelProvider->wrapSocketFd(kj::AutoCloseFd(ends[1]));
    hub = kj::heap<ConsoleHub>(*io.lowLevelProvider, *host_side, with_input ? host_side.get() : nullptr);
    pump = hub->pump().eagerlyEvaluate(nullptr);
  }

  // Non-blocking, turning the loop while the socket is full: the hub reads
  // on this same thread.
  void guest_prints(const std::string& text) {
    std::size_t sent = 0;
    ASSERT_TRUE(spin_until([&] {
      const ssize_t n = ::send(guest_side.get(), text.data() + sent, text.size() - sent, MSG_DONTWAIT);
      if (n > 0) sent += static_cast<std::size_t>(n);
      return sent == text.size();
    }));
  }

  // Runs the event loop until `done` (bounded generously; never a timing assertion).
  bool spin_until(const std::function<bool()>& done) {
    auto& timer = io.provider->getTimer();
    const auto deadline = timer.now() + 60 * kj::SECONDS;
    while (!done() && timer.now() < deadline) timer.afterDelay(5 * kj::MILLISECONDS).wait(io.waitScope);
    return done();
  }
};

// Everything readable on `fd` now, or "" at EOF; sets `eof`.
std::string read_available(int fd, bool& eof) {
  std::string out;
  char buffer[65536];
  for (;;) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (got > 0) {
      out.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    eof = got == 0;
    return out;
  }
}

TEST(ConsoleHub, ReplaysTheLogThenStreamsLiveOutput) {
  HubFixture fixture;
  fixture.guest_prints("boot line\n");
  ASSERT_TRUE(fixture.spin_until([&] { return fixture.hub->log().total_written() == 10; }));
  kj::AutoCloseFd reader = fixture.hub->open_channel(true, false);
  fixture.guest_prints("live line\n");
  std::string seen;
  bool eof = false;
  ASSERT_TRUE(fixture.spin_until([&] {
    seen += read_available(reader.get(), eof);
    return seen == "boot line\nlive line\n";
  })) << seen;
  EXPECT_EQ(fixture.hub->log().text(), "boot line\nlive line\n");
}

TEST(ConsoleHub, ASlowReaderLosesBytesWithAMarkerAndStallsNothing) {
  HubFixture fixture;
  kj::AutoCloseFd stalled = fixture.hub->open_channel(true, false);
  kj::AutoCloseFd healthy = fixture.hub->open_channel(true, false);
  // Far more than the queue and the socket buffers together.
  const std::string block(256 * 1024, 'x');
  const std::size_t blocks = 16;
  std::string healthy_seen;
  bool eof = false;
  for (std::size_t i = 0; i < blocks; ++i) {
    fixture.guest_prints(block);
    ASSERT_TRUE(fixture.spin_until([&] {
      healthy_seen += read_available(healthy.get(), eof);
      return fixture.hub->log().total_written() == (i + 1) * block.size();
    }));
  }
  ASSERT_TRUE(fixture.spin_until([&] {
    healthy_seen += read_available(healthy.get(), eof);
    return healthy_seen.size() >= blocks * block.size();
  }));
  EXPECT_EQ(healthy_seen.size(), blocks * block.size());
  EXPECT_EQ(healthy_seen.find("[provium:"), std::string::npos);

  // The stalled reader had its queue capped; reading now drains it, and the
  // next output carries the marker.
  std::string stalled_seen;
  ASSERT_TRUE(fixture.spin_until([&] {
    stalled_seen += read_available(stalled.get(), eof);
    return stalled_seen.size() >= ConsoleHub::kChannelQueueBytes;
  }));
  EXPECT_LT(stalled_seen.size(), blocks * block.size());
  fixture.guest_prints("after\n");
  ASSERT_TRUE(fixture.spin_until([&] {
    stalled_seen += read_available(stalled.get(), eof);
    return stalled_seen.find("after\n") != std::string::npos;
  }));
  EXPECT_NE(stalled_seen.find("console bytes dropped: the reader fell behind]"), std::string::npos);
  EXPECT_LE(fixture.hub->log().text().size(), ConsoleHub::kHeadBytes + ConsoleHub::kTailBytes + 100);
}

// A reader that stops reading before the hub notices its end (here: it shuts
// down its receiving side, so the hub's next write fails with EPIPE while its
// read side never sees EOF) loses its channel, and nothing else: the log and
// the other readers keep getting output. It once stopped the hub's pump for
// good, so a console went silent under load.
TEST(ConsoleHub, AReaderThatWentAwayEndsOnlyItsOwnChannel) {
  HubFixture fixture;
  kj::AutoCloseFd gone = fixture.hub->open_channel(true, false);
  kj::AutoCloseFd healthy = fixture.hub->open_channel(true, false);
  ASSERT_EQ(::shutdown(gone.get(), SHUT_RD), 0);
  fixture.guest_prints("first\n");
  ASSERT_TRUE(fixture.spin_until([&] { return fixture.hub->log().total_written() == 6; }));
  fixture.guest_prints("second\n");
  ASSERT_TRUE(fixture.spin_until([&] { return fixture.hub->log().total_written() == 13; }))
      << "the pump stopped after a reader's write failed";
  std::string seen;
  bool eof = false;
  ASSERT_TRUE(fixture.spin_until([&] {
    seen += read_available(healthy.get(), eof);
    return seen == "first\nsecond\n";
  })) << seen;
  EXPECT_EQ(fixture.hub->log().text(), "first\nsecond\n");
}

TEST(ConsoleHub, InputGoesToTheGuestOneChannelAtATime) {
  HubFixture fixture;
  kj::AutoCloseFd input = fixture.hub->open_channel(false, true);
  EXPECT_THROW(fixture.hub->open_channel(false, true), std::runtime_error);
  ASSERT_EQ(::write(input.get(), "typed\n", 6), 6);
  std::string received;
  bool eof = false;
  ASSERT_TRUE(fixture.spin_until([&] {
    received += read_available(fixture.guest_side.get(), eof);
    return received == "typed\n";
  }));
  // An input-only channel carries no output: EOF at once.
  char byte;
  EXPECT_EQ(::read(input.get(), &byte, 1), 0);
  // Closing it frees the input for another channel.
  input = kj::AutoCloseFd();
  kj::AutoCloseFd again;
  ASSERT_TRUE(fixture.spin_until([&] {
    if (again.get() < 0) {
      try {
        again = fixture.hub->open_channel(false, true);
      } catch (const std::runtime_error&) {
      }
    }
    return again.get() >= 0;
  }));
}

TEST(ConsoleHub, RefusesInputWithoutAGuestInputAndTooManyChannels) {
  HubFixture fixture(false);
  EXPECT_THROW(fixture.hub->open_channel(false, true), std::runtime_error);
  EXPECT_THROW(fixture.hub->open_channel(false, false), std::runtime_error);
  std::vector<kj::AutoCloseFd> open;
  for (std::size_t i = 0; i < ConsoleHub::kMaxChannels; ++i) open.push_back(fixture.hub->open_channel(true, false));
  EXPECT_THROW(fixture.hub->open_channel(true, false), std::runtime_error);
}

TEST(ConsoleHub, ChannelsEndWhenTheConsoleEnds) {
  HubFixture fixture;
  kj::AutoCloseFd reader = fixture.hub->open_channel(true, false);
  fixture.guest_prints("last words\n");
  fixture.guest_side = kj::AutoCloseFd();
  std::string seen;
  bool eof = false;
  ASSERT_TRUE(fixture.spin_until([&] {
    seen += read_available(reader.get(), eof);
    return eof;
  }));
  EXPECT_EQ(seen, "last words\n");
  // A channel opened afterwards gets the log, then EOF.
  kj::AutoCloseFd late = fixture.hub->open_channel(true, false);
  std::string late_seen;
  eof = false;
  ASSERT_TRUE(fixture.spin_until([&] {
    late_seen += read_available(late.get(), eof);
    return eof;
  }));
  EXPECT_EQ(late_seen, "last words\n");
}

}  // namespace
}  // namespace provium
