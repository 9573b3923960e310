#include "event_frame.h"

#include <fmt/format.h>

// msgpack-c's header-only C++ API; meson defines MSGPACK_NO_BOOST.
#include <msgpack.hpp>

namespace provium {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_value(Packer& packer, const EventValue& value);

void pack_map(Packer& packer, const EventMap& map) {
  packer.pack_map(static_cast<std::uint32_t>(map.size()));
  for (const auto& field : map) {
    packer.pack(field.key);
    pack_value(packer, field.value);
  }
}

void pack_value(Packer& packer, const EventValue& value) {
  std::visit(
      [&](const auto& held) {
        using T = std::decay_t<decltype(held)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          packer.pack_nil();
        } else if constexpr (std::is_same_v<T, EventList>) {
          packer.pack_array(static_cast<std::uint32_t>(held.size()));
          for (const auto& item : held) pack_value(packer, item);
        } else if constexpr (std::is_same_v<T, EventMap>) {
          pack_map(packer, held);
        } else {
          packer.pack(held);
        }
      },
      value.value);
}

EventValue unpack_value(const msgpack::object& object, int depth);

std::string string_of(const msgpack::object& object, const char* what) {
  if (object.type != msgpack::type::STR) throw EventFrameError(fmt::format("{} is not a string", what));
  return std::string(object.via.str.ptr, object.via.str.size);
}

EventMap unpack_map(const msgpack::object& object, int depth) {
  if (object.type != msgpack::type::MAP) throw EventFrameError("expected a map");
  EventMap map;
  for (std::uint32_t i = 0; i < object.via.map.size; ++i) {
    const auto& entry = object.via.map.ptr[i];
    map.push_back({string_of(entry.key, "a map key"), unpack_value(entry.val, depth + 1)});
  }
  return map;
}

EventValue unpack_value(const msgpack::object& object, int depth) {
  if (depth > 32) throw EventFrameError("values nested deeper than 32 levels");
  switch (object.type) {
    case msgpack::type::NIL: return EventValue{};
    case msgpack::type::BOOLEAN: return EventValue{object.via.boolean};
    case msgpack::type::POSITIVE_INTEGER: return EventValue{static_cast<std::uint64_t>(object.via.u64)};
    case msgpack::type::NEGATIVE_INTEGER: return EventValue{static_cast<std::int64_t>(object.via.i64)};
    case msgpack::type::STR: return EventValue{string_of(object, "a string")};
    case msgpack::type::ARRAY: {
      EventList list;
      for (std::uint32_t i = 0; i < object.via.array.size; ++i) {
        list.push_back(unpack_value(object.via.array.ptr[i], depth + 1));
      }
      return EventValue{std::move(list)};
    }
    case msgpack::type::MAP: return EventValue{unpack_map(object, depth)};
    default: throw EventFrameError(fmt::format("unexpected msgpack type {}", static_cast<int>(object.type)));
  }
}

}  // namespace

std::string encode_event_frame(const Event& event) {
  msgpack::sbuffer body;
  Packer packer(body);
  packer.pack_map(3);
  packer.pack(std::string_view("ts"));
  packer.pack(event.ts_ns);
  packer.pack(std::string_view("kind"));
  packer.pack(event.kind);
  packer.pack(std::string_view("payload"));
  pack_map(packer, event.payload);
  if (body.size() > kMaxEventFrameBytes) {
    throw EventFrameError(fmt::format("event `{}` is {} bytes, over the {}-byte frame limit", event.kind, body.size(),
                                      kMaxEventFrameBytes));
  }
  const auto length = static_cast<std::uint32_t>(body.size());
  std::string frame;
  frame.reserve(4 + body.size());
  for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(static_cast<char>((length >> shift) & 0xff));
  frame.append(body.data(), body.size());
  return frame;
}

Event decode_event_frame(std::string_view bytes, std::size_t& consumed) {
  if (bytes.size() < 4) throw EventFrameError("truncated frame: no complete length prefix");
  std::uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length = (length << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  if (length > kMaxEventFrameBytes) throw EventFrameError(fmt::format("frame of {} bytes is over the limit", length));
  if (bytes.size() - 4 < length) {
    throw EventFrameError(fmt::format("truncated frame: {} bytes announced, {} present", length, bytes.size() - 4));
  }
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data() + 4, length);
  } catch (const std::exception& error) {
    throw EventFrameError(fmt::format("malformed msgpack: {}", error.what()));
  }
  const EventMap envelope = unpack_map(handle.get(), 0);
  Event event;
  bool have_ts = false, have_kind = false, have_payload = false;
  for (const auto& field : envelope) {
    if (field.key == "ts") {
      if (const auto* u = std::get_if<std::uint64_t>(&field.value.value)) {
        event.ts_ns = static_cast<std::int64_t>(*u);
      } else if (const auto* s = std::get_if<std::int64_t>(&field.value.value)) {
        event.ts_ns = *s;
      } else {
        throw EventFrameError("`ts` is not an integer");
      }
      have_ts = true;
    } else if (field.key == "kind") {
      const auto* kind = std::get_if<std::string>(&field.value.value);
      if (!kind) throw EventFrameError("`kind` is not a string");
      event.kind = *kind;
      have_kind = true;
    } else if (field.key == "payload") {
      const auto* payload = std::get_if<EventMap>(&field.value.value);
      if (!payload) throw EventFrameError("`payload` is not a map");
      event.payload = *payload;
      have_payload = true;
    }
  }
  if (!have_ts || !have_kind || !have_payload) throw EventFrameError("frame lacks one of ts, kind, payload");
  consumed = 4 + length;
  return event;
}

}  // namespace provium
