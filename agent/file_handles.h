// The host's open files (openFile and friends), for one host session.
//
// A handle id is the agent's own descriptor number, so the host can pass it as
// an fd argument to syscall and ioctl. Descriptors are opened non-blocking and
// close-on-exec: a read from a FIFO or tty with nothing to read waits in the
// event loop (the reply comes once data arrives) instead of blocking the
// agent. One such wait per handle at a time.
#pragma once

#include "event_loop.h"
#include "outbound_frame.h"
#include "unique_fd.h"

#include <capnp/blob.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace provium::agent {

inline constexpr std::size_t kMaxOpenHandles = 256;
// Data of writes waiting for a full pipe or tty, over all handles.
inline constexpr std::size_t kMaxWaitingWriteBytes = 16u << 20;

class FileHandleTable {
 public:
  using Send = std::function<void(OutboundFrame)>;

  FileHandleTable(EventLoop& loop, Send send);
  FileHandleTable(const FileHandleTable&) = delete;
  FileHandleTable& operator=(const FileHandleTable&) = delete;

  // `mode_bits` are Request's open* constants. Returns the handle id. Throws
  // std::system_error naming the path.
  std::uint64_t open(const std::string& path, std::uint32_t mode_bits, mode_t perm);

  // These answer request `id` through `send`, now or once the fd is ready.
  // `offset` < 0: at the cursor; otherwise pread/pwrite there.
  void read(std::uint64_t id, std::uint64_t handle, std::size_t max_bytes, std::int64_t offset);
  void write(std::uint64_t id, std::uint64_t handle, capnp::Data::Reader data, std::int64_t offset);

  // Return the new / current offset; throw std::system_error.
  std::uint64_t seek(std::uint64_t handle, std::int64_t offset, int whence);
  std::uint64_t tell(std::uint64_t handle);
  // A read or write still waiting is answered with an error.
  void close(std::uint64_t handle);

  // A second descriptor for the same open file (same cursor), for fdStream.
  UniqueFd duplicate(std::uint64_t handle) const;
  const std::string& path_of(std::uint64_t handle) const;
  std::size_t size() const { return handles_.size(); }

 private:
  struct WaitingIo {
    std::uint64_t request_id = 0;
    bool is_write = false;
    std::size_t max_bytes = 0;
    std::int64_t offset = -1;
    std::vector<std::byte> data;  // for a write
    Watch watch;
  };
  struct OpenHandle {
    UniqueFd fd;
    std::string path;
    std::optional<WaitingIo> waiting;  // after fd: its watch goes first
  };

  OpenHandle& find(std::uint64_t handle, const char* op);
  const OpenHandle& find(std::uint64_t handle, const char* op) const;
  // True when done (answered); false when the fd would block.
  bool try_read(OpenHandle& open, std::uint64_t id, std::size_t max_bytes, std::int64_t offset);
  bool try_write(OpenHandle& open, std::uint64_t id, const std::byte* data, std::size_t size, std::int64_t offset);
  void wait_for(int handle, WaitingIo io);
  void on_ready(int handle);
  std::size_t waiting_write_bytes() const;

  EventLoop& loop_;
  Send send_;
  std::map<int, OpenHandle> handles_;
};

// Open flags for Request's open* bits; throws std::system_error (EINVAL) for
// an empty mode, unknown bits or exclusive without create.
int open_flags_for(std::uint32_t mode_bits, const std::string& path);

}  // namespace provium::agent
