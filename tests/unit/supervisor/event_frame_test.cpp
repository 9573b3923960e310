#include "event_frame.h"

#include <gtest/gtest.h>

namespace provium {
namespace {

Event decode_one(const std::string& frame) {
  std::size_t consumed = 0;
  Event event = decode_event_frame(frame, consumed);
  EXPECT_EQ(consumed, frame.size());
  return event;
}

TEST(EventFrame, ExactBytesOfOneSmallEvent) {
  const Event event{.ts_ns = 5, .kind = "fixture_cache_hit", .payload = {{"path", EventValue{std::string("b")}}}};
  // fixmap(3) "ts" 5 "kind" "fixture_cache_hit" "payload" fixmap(1) "path" "b"
  std::string body;
  body += '\x83';
  body += "\xa2ts";
  body += '\x05';
  body += "\xa4kind";
  body += "\xb1" "fixture_cache_hit";
  body += "\xa7payload";
  body += '\x81';
  body += "\xa4path";
  body += "\xa1" "b";
  std::string expected{'\0', '\0', '\0', static_cast<char>(body.size())};
  expected += body;
  EXPECT_EQ(encode_event_frame(event), expected);
}

TEST(EventFrame, TheLengthPrefixIsBigEndian) {
  const Event event{.ts_ns = 1, .kind = "k", .payload = {{"s", EventValue{std::string(300, 'x')}}}};
  const std::string frame = encode_event_frame(event);
  const std::size_t body = frame.size() - 4;
  ASSERT_GT(body, 255u);
  EXPECT_EQ(static_cast<unsigned char>(frame[2]), body >> 8);
  EXPECT_EQ(static_cast<unsigned char>(frame[3]), body & 0xff);
}

TEST(EventFrame, DecodesWhatItEncodes) {
  std::vector<Event> emitted{
      events::file_discovered("tests/a.test.lua", {"base", "setups/net"}),
      events::file_completed("tests/a.test.lua", "timed_out", std::chrono::seconds(3)),
      events::test_ended("tests/a.test.lua", "boots", TestEnd::failed, "1 ~= 2", std::chrono::milliseconds(5)),
      events::vm_spawned("tests/a.test.lua", "a", "default", 256ull << 20, 0),
      events::claim_acquired("tests/a.test.lua", ResourceAmount{.memory_bytes = 1ull << 30, .cpus = 2}),
      events::fixture_build_done("base", std::chrono::milliseconds(1500), 123456789),
      Event{.ts_ns = -7, .kind = "odd", .payload = {{"nil", EventValue{}}, {"yes", EventValue{true}},
                                                     {"neg", EventValue{std::int64_t{-40000}}},
                                                     {"nested", EventValue{EventList{EventValue{EventMap{}}}}}}},
  };
  std::string stream;
  for (const Event& event : emitted) stream += encode_event_frame(event);
  std::string_view rest = stream;
  for (const Event& event : emitted) {
    std::size_t consumed = 0;
    EXPECT_EQ(decode_event_frame(rest, consumed), event) << event.kind;
    rest.remove_prefix(consumed);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(EventFrame, PayloadFieldsFollowTheReference) {
  const Event passed = decode_one(encode_event_frame(
      events::test_ended("f.test.lua", "t", TestEnd::passed, "", std::chrono::nanoseconds(42))));
  EXPECT_EQ(passed.kind, "test_passed");
  std::vector<std::string> keys;
  for (const auto& field : passed.payload) keys.push_back(field.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"path", "name", "duration_ns", "meta"}));
  EXPECT_EQ(std::get<std::uint64_t>(passed.payload[2].value.value), 42u);
  EXPECT_EQ(std::get<EventMap>(passed.payload[3].value.value).size(), 0u);

  const Event skipped = decode_one(encode_event_frame(
      events::test_ended("f.test.lua", "t", TestEnd::skipped, "slow", std::chrono::nanoseconds(0))));
  EXPECT_EQ(skipped.kind, "test_skipped");
  EXPECT_EQ(std::get<std::string>(skipped.payload[2].value.value), "slow");

  const Event claim = decode_one(encode_event_frame(events::claim_released("f", ResourceAmount{.cpus = 1})));
  const auto& amount = std::get<EventMap>(claim.payload[1].value.value);
  ASSERT_EQ(amount.size(), 1u) << "an omitted claim field stays out";
  EXPECT_EQ(amount[0].key, "cpus");
}

std::vector<std::string> keys_of(const Event& event) {
  std::vector<std::string> keys;
  for (const auto& field : event.payload) keys.push_back(field.key);
  return keys;
}

// The wire shape of every kind we emit: a change here is a change for every consumer (docs/events.md).
TEST(EventFrame, EveryKindsFieldsInOrder) {
  using Keys = std::vector<std::string>;
  const auto ns = std::chrono::nanoseconds(1);
  const std::vector<std::pair<Event, Keys>> shapes{
      {events::file_discovered("p", {}), Keys{"path", "fixture_refs"}},
      {events::file_dispatched("p"), Keys{"path"}},
      {events::file_completed("p", "passed", ns), Keys{"path", "status", "duration_ns"}},
      {events::test_started("p", "n"), Keys{"path", "name", "meta"}},
      {events::test_ended("p", "n", TestEnd::passed, "", ns), Keys{"path", "name", "duration_ns", "meta"}},
      {events::test_ended("p", "n", TestEnd::failed, "r", ns),
       Keys{"path", "name", "duration_ns", "reason", "console_excerpt", "meta"}},
      {events::test_ended("p", "n", TestEnd::skipped, "r", ns), Keys{"path", "name", "reason", "meta"}},
      {events::vm_spawned("f", "v", "default", 1, 0), Keys{"file", "vm_name", "profile", "memory_bytes", "cid"}},
      {events::vm_shutdown("f", "v", ns), Keys{"file", "vm_name", "duration_ns"}},
      {events::claim_acquired("p", {}), Keys{"path", "amount"}},
      {events::claim_released("p", {}), Keys{"path", "amount"}},
      {events::fixture_build_started("x"), Keys{"path"}},
      {events::fixture_build_done("x", ns, 1), Keys{"path", "duration_ns", "snapshot_bytes"}},
      {events::fixture_build_waiting("x", "h"), Keys{"path", "held_by_file"}},
      {events::fixture_cache_hit("x"), Keys{"path"}},
  };
  const std::vector<std::string> kinds{"file_discovered", "file_dispatched", "file_completed", "test_started",
                                       "test_passed", "test_failed", "test_skipped", "vm_spawned", "vm_shutdown",
                                       "claim_acquired", "claim_released", "fixture_build_started",
                                       "fixture_build_done", "fixture_build_waiting", "fixture_cache_hit"};
  ASSERT_EQ(shapes.size(), kinds.size());
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const Event decoded = decode_one(encode_event_frame(shapes[i].first));
    EXPECT_EQ(decoded.kind, kinds[i]);
    EXPECT_EQ(keys_of(decoded), shapes[i].second) << kinds[i];
  }
}

TEST(EventFrame, TimestampsAreNanosecondsSinceTheEpoch) {
  const auto before = std::chrono::system_clock::now().time_since_epoch();
  const Event event = events::file_dispatched("x");
  const auto after = std::chrono::system_clock::now().time_since_epoch();
  EXPECT_GE(event.ts_ns, std::chrono::duration_cast<std::chrono::nanoseconds>(before).count());
  EXPECT_LE(event.ts_ns, std::chrono::duration_cast<std::chrono::nanoseconds>(after).count());
}

TEST(EventFrame, RejectsTruncatedAndMalformedFrames) {
  const std::string frame = encode_event_frame(events::file_dispatched("tests/a.test.lua"));
  std::size_t consumed = 0;
  EXPECT_THROW(decode_event_frame(frame.substr(0, 3), consumed), EventFrameError);
  EXPECT_THROW(decode_event_frame(frame.substr(0, frame.size() - 1), consumed), EventFrameError);
  EXPECT_THROW(decode_event_frame(std::string("\xff\xff\xff\xff", 4), consumed), EventFrameError);
  // A body that is an array, not the {ts, kind, payload} map.
  EXPECT_THROW(decode_event_frame(std::string("\0\0\0\x01\x90", 5), consumed), EventFrameError);
  // A map without `kind`.
  EXPECT_THROW(decode_event_frame(std::string("\0\0\0\x05\x81\xa2ts\x01", 9), consumed), EventFrameError);
}

}  // namespace
}  // namespace provium
