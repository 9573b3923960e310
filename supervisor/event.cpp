#include "event.h"

namespace provium {

bool EventValue::operator==(const EventValue& other) const { return value == other.value; }

namespace events {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Event make(std::string kind, EventMap payload) { return Event{now_ns(), std::move(kind), std::move(payload)}; }

EventValue text(const std::string& value) { return EventValue{value}; }
EventValue unsigned_value(std::uint64_t value) { return EventValue{value}; }
EventValue nanos(std::chrono::nanoseconds duration) {
  return EventValue{static_cast<std::uint64_t>(duration.count() < 0 ? 0 : duration.count())};
}

EventValue amount_value(const ResourceAmount& amount) {
  EventMap map;
  if (amount.memory_bytes) map.push_back({"memory_bytes", unsigned_value(*amount.memory_bytes)});
  if (amount.cpus) map.push_back({"cpus", unsigned_value(*amount.cpus)});
  return EventValue{std::move(map)};
}

// We carry no per-test metadata to the supervisor yet: the field is always an empty map.
EventValue empty_meta() { return EventValue{EventMap{}}; }

const char* kind_of(TestEnd end) {
  switch (end) {
    case TestEnd::passed: return "test_passed";
    case TestEnd::failed: return "test_failed";
    case TestEnd::skipped: return "test_skipped";
  }
  return "test_failed";
}

}  // namespace

Event file_discovered(const std::string& path, const std::vector<std::string>& fixture_refs) {
  EventList refs;
  for (const auto& ref : fixture_refs) refs.push_back(text(ref));
  return make("file_discovered", {{"path", text(path)}, {"fixture_refs", EventValue{std::move(refs)}}});
}

Event file_dispatched(const std::string& path) { return make("file_dispatched", {{"path", text(path)}}); }

Event file_completed(const std::string& path, const std::string& status, std::chrono::nanoseconds duration) {
  return make("file_completed", {{"path", text(path)}, {"status", text(status)}, {"duration_ns", nanos(duration)}});
}

Event test_started(const std::string& path, const std::string& name) {
  return make("test_started", {{"path", text(path)}, {"name", text(name)}, {"meta", empty_meta()}});
}

Event test_ended(const std::string& path, const std::string& name, TestEnd end, const std::string& message,
                 std::chrono::nanoseconds duration) {
  EventMap payload{{"path", text(path)}, {"name", text(name)}};
  switch (end) {
    case TestEnd::passed:
      payload.push_back({"duration_ns", nanos(duration)});
      break;
    case TestEnd::failed:
      payload.push_back({"duration_ns", nanos(duration)});
      payload.push_back({"reason", text(message)});
      // Console excerpts are not gathered at failure time yet (docs/events.md).
      payload.push_back({"console_excerpt", text("")});
      break;
    case TestEnd::skipped:
      payload.push_back({"reason", text(message)});
      break;
  }
  payload.push_back({"meta", empty_meta()});
  return make(kind_of(end), std::move(payload));
}

Event vm_spawned(const std::string& file, const std::string& vm_name, const std::string& profile,
                 std::uint64_t memory_bytes, std::uint32_t cid) {
  return make("vm_spawned", {{"file", text(file)},
                             {"vm_name", text(vm_name)},
                             {"profile", text(profile)},
                             {"memory_bytes", unsigned_value(memory_bytes)},
                             {"cid", unsigned_value(cid)}});
}

Event vm_shutdown(const std::string& file, const std::string& vm_name, std::chrono::nanoseconds uptime) {
  return make("vm_shutdown", {{"file", text(file)}, {"vm_name", text(vm_name)}, {"duration_ns", nanos(uptime)}});
}

Event claim_acquired(const std::string& path, const ResourceAmount& amount) {
  return make("claim_acquired", {{"path", text(path)}, {"amount", amount_value(amount)}});
}

Event claim_released(const std::string& path, const ResourceAmount& amount) {
  return make("claim_released", {{"path", text(path)}, {"amount", amount_value(amount)}});
}

Event fixture_build_started(const std::string& path) { return make("fixture_build_started", {{"path", text(path)}}); }

Event fixture_build_done(const std::string& path, std::chrono::nanoseconds duration, std::uint64_t snapshot_bytes) {
  return make("fixture_build_done",
              {{"path", text(path)}, {"duration_ns", nanos(duration)}, {"snapshot_bytes", unsigned_value(snapshot_bytes)}});
}

Event fixture_build_waiting(const std::string& path, const std::string& held_by) {
  return make("fixture_build_waiting", {{"path", text(path)}, {"held_by_file", text(held_by)}});
}

Event fixture_cache_hit(const std::string& path) { return make("fixture_cache_hit", {{"path", text(path)}}); }

}  // namespace events
}  // namespace provium
