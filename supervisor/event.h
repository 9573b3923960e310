// The observability event model (docs/events.md): one Event is a timestamp,
// a snake_case kind and a payload map whose fields keep the order they were
// added in. Values are the few msgpack types the payloads need, so a frame
// decodes back to the same Event (event_frame.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace provium {

struct EventValue;
struct EventField;
using EventList = std::vector<EventValue>;
using EventMap = std::vector<EventField>;

struct EventValue {
  std::variant<std::monostate, bool, std::int64_t, std::uint64_t, std::string, EventList, EventMap> value;

  bool operator==(const EventValue& other) const;
};

struct EventField {
  std::string key;
  EventValue value;

  bool operator==(const EventField& other) const = default;
};

struct Event {
  std::int64_t ts_ns = 0;  // nanoseconds since the Unix epoch, host clock at emission
  std::string kind;
  EventMap payload;

  bool operator==(const Event& other) const = default;
};

// Memory and vCPUs, as claims carry them (an omitted claim field is left out).
struct ResourceAmount {
  std::optional<std::uint64_t> memory_bytes;
  std::optional<std::uint32_t> cpus;
};

// The terminal state of one test, as the runner reported it.
enum class TestEnd { passed, failed, skipped };

// One constructor per kind we emit; each stamps the current time.
namespace events {

Event file_discovered(const std::string& path, const std::vector<std::string>& fixture_refs);
Event file_dispatched(const std::string& path);
Event file_completed(const std::string& path, const std::string& status, std::chrono::nanoseconds duration);
Event test_started(const std::string& path, const std::string& name);
Event test_ended(const std::string& path, const std::string& name, TestEnd end, const std::string& message,
                 std::chrono::nanoseconds duration);
Event vm_spawned(const std::string& file, const std::string& vm_name, const std::string& profile,
                 std::uint64_t memory_bytes, std::uint32_t cid);
Event vm_shutdown(const std::string& file, const std::string& vm_name, std::chrono::nanoseconds uptime);
Event claim_acquired(const std::string& path, const ResourceAmount& amount);
Event claim_released(const std::string& path, const ResourceAmount& amount);
Event fixture_build_started(const std::string& path);
Event fixture_build_done(const std::string& path, std::chrono::nanoseconds duration, std::uint64_t snapshot_bytes);
Event fixture_build_waiting(const std::string& path, const std::string& held_by);
Event fixture_cache_hit(const std::string& path);

}  // namespace events

}  // namespace provium
