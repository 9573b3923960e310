#include "stream_drain.h"

namespace provium {
namespace {

constexpr size_t kChunk = 16 * 1024;

kj::Promise<void> drain_loop(kj::AsyncInputStream& input, TailBuffer& sink, kj::Array<kj::byte> buffer) {
  auto read = input.tryRead(buffer.begin(), 1, buffer.size());
  return read.then(
      [&input, &sink, buffer = kj::mv(buffer)](size_t got) mutable -> kj::Promise<void> {
        if (got == 0) return kj::READY_NOW;
        sink.append(std::string_view(reinterpret_cast<const char*>(buffer.begin()), got));
        return drain_loop(input, sink, kj::mv(buffer));
      },
      [](kj::Exception&&) -> kj::Promise<void> { return kj::READY_NOW; });
}

}  // namespace

kj::Promise<void> drain_into(kj::AsyncInputStream& input, TailBuffer& sink) {
  return drain_loop(input, sink, kj::heapArray<kj::byte>(kChunk));
}

}  // namespace provium
