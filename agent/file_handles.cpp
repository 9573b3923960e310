#include "file_handles.h"

#include "agent.capnp.h"
#include "path_errors.h"
#include "responses.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace provium::agent {
namespace wire = provium::wire::agent;

namespace {

constexpr std::uint32_t kKnownModeBits = wire::OPEN_READ | wire::OPEN_WRITE | wire::OPEN_CREATE |
                                         wire::OPEN_TRUNCATE | wire::OPEN_APPEND | wire::OPEN_EXCLUSIVE;

std::string describe(const std::string& path, std::uint64_t handle) {
  return "`" + path + "` (handle " + std::to_string(handle) + ")";
}

[[noreturn]] void fail(const char* action, const std::string& path, std::uint64_t handle, int error_number) {
  throw std::system_error(error_number, std::generic_category(), std::string(action) + " " + describe(path, handle));
}

// The frame holds its whole capacity until it is written: ask for no more than
// this read can return. A short read is a read's right.
std::size_t read_capacity(int fd, std::size_t max_bytes, std::int64_t offset) {
  constexpr std::size_t kSmallestCapacity = 64 * 1024;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    const off_t position = offset >= 0 ? offset : ::lseek(fd, 0, SEEK_CUR);
    const auto remaining = info.st_size > position ? static_cast<std::size_t>(info.st_size - position) : 0;
    // Files in /proc say size 0; a file may also have grown since the fstat.
    return std::min(max_bytes, std::max(remaining, kSmallestCapacity));
  }
  int available = 0;
  if (::ioctl(fd, FIONREAD, &available) == 0) {
    return std::min(max_bytes, std::max<std::size_t>(static_cast<std::size_t>(available), 4096));
  }
  return max_bytes;  // block and character devices fill what is asked
}

}  // namespace

int open_flags_for(std::uint32_t mode_bits, const std::string& path) {
  auto invalid = [&](const std::string& why) {
    throw std::system_error(EINVAL, std::generic_category(), "openFile `" + path + "`: " + why);
  };
  if ((mode_bits & ~kKnownModeBits) != 0) invalid("unknown mode bits " + std::to_string(mode_bits & ~kKnownModeBits));
  const bool reads = mode_bits & wire::OPEN_READ;
  const bool writes = mode_bits & (wire::OPEN_WRITE | wire::OPEN_APPEND);
  if (!reads && !writes) invalid("the mode needs read, write or append");
  if ((mode_bits & wire::OPEN_EXCLUSIVE) && !(mode_bits & wire::OPEN_CREATE)) invalid("exclusive needs create");

  int flags = reads && writes ? O_RDWR : (writes ? O_WRONLY : O_RDONLY);
  if (mode_bits & wire::OPEN_CREATE) flags |= O_CREAT;
  if (mode_bits & wire::OPEN_TRUNCATE) flags |= O_TRUNC;
  if (mode_bits & wire::OPEN_APPEND) flags |= O_APPEND;
  if (mode_bits & wire::OPEN_EXCLUSIVE) flags |= O_EXCL;
  // Never block the agent in open (a FIFO without a peer) or in I/O, never
  // become the controlling tty, never leak into commands.
  return flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
}

FileHandleTable::FileHandleTable(EventLoop& loop, Send send) : loop_(loop), send_(std::move(send)) {}

std::uint64_t FileHandleTable::open(const std::string& path, std::uint32_t mode_bits, mode_t perm) {
  const int flags = open_flags_for(mode_bits, path);
  if (handles_.size() >= kMaxOpenHandles) {
    throw std::system_error(EMFILE, std::generic_category(),
                            "openFile `" + path + "`: " + std::to_string(kMaxOpenHandles) +
                                " handles are already open in this session");
  }
  // Learn whether this open creates the file: only then does `perm` apply,
  // exactly (an existing file keeps its mode, as with open(2)).
  bool created = false;
  UniqueFd fd;
  if ((flags & O_CREAT) && !(flags & O_EXCL)) {
    fd.reset(::open(path.c_str(), flags | O_EXCL, perm));
    created = fd.valid();
    if (!fd.valid() && errno == EEXIST) fd.reset(::open(path.c_str(), flags, perm));
  } else {
    fd.reset(::open(path.c_str(), flags, perm));
    created = fd.valid() && (flags & O_EXCL);
  }
  if (!fd.valid()) throw_path_error("openFile", path, errno);
  if (created && ::fchmod(fd.get(), perm) != 0) throw_path_error("openFile", path, errno);

  const int handle = fd.get();
  handles_[handle] = OpenHandle{std::move(fd), path, std::nullopt};
  return static_cast<std::uint64_t>(handle);
}

FileHandleTable::OpenHandle& FileHandleTable::find(std::uint64_t handle, const char* op) {
  auto found = handle <= INT32_MAX ? handles_.find(static_cast<int>(handle)) : handles_.end();
  if (found == handles_.end()) {
    throw std::system_error(EBADF, std::generic_category(),
                            std::string(op) + ": no open file handle " + std::to_string(handle));
  }
  return found->second;
}

const FileHandleTable::OpenHandle& FileHandleTable::find(std::uint64_t handle, const char* op) const {
  return const_cast<FileHandleTable*>(this)->find(handle, op);
}

void FileHandleTable::read(std::uint64_t id, std::uint64_t handle, std::size_t max_bytes, std::int64_t offset) {
  OpenHandle& open = find(handle, "fileRead");
  if (open.waiting) fail("fileRead", open.path, handle, EBUSY);
  max_bytes = std::min(max_bytes, kMaxDataResponseBytes);
  if (!try_read(open, id, max_bytes, offset)) {
    wait_for(open.fd.get(), WaitingIo{.request_id = id, .max_bytes = max_bytes, .offset = offset});
  }
}

void FileHandleTable::write(std::uint64_t id, std::uint64_t handle, capnp::Data::Reader data, std::int64_t offset) {
  OpenHandle& open = find(handle, "fileWrite");
  if (open.waiting) fail("fileWrite", open.path, handle, EBUSY);
  const auto* bytes = reinterpret_cast<const std::byte*>(data.begin());
  if (try_write(open, id, bytes, data.size(), offset)) return;
  if (waiting_write_bytes() + data.size() > kMaxWaitingWriteBytes) {
    fail("fileWrite (too much data already waiting for full descriptors)", open.path, handle, EAGAIN);
  }
  wait_for(open.fd.get(), WaitingIo{.request_id = id,
                                    .is_write = true,
                                    .offset = offset,
                                    .data = std::vector<std::byte>(bytes, bytes + data.size())});
}

bool FileHandleTable::try_read(OpenHandle& open, std::uint64_t id, std::size_t max_bytes, std::int64_t offset) {
  const std::size_t capacity = read_capacity(open.fd.get(), max_bytes, offset);
  auto frame = InPlaceDataFrame::data_response(id, capacity);
  ssize_t got;
  do {
    got = offset < 0 ? ::read(open.fd.get(), frame.buffer(), capacity)
                     : ::pread(open.fd.get(), frame.buffer(), capacity, offset);
  } while (got < 0 && errno == EINTR);
  if (got < 0 && errno == EAGAIN) return false;
  if (got < 0) fail("fileRead", open.path, static_cast<std::uint64_t>(open.fd.get()), errno);
  send_(frame.finish(static_cast<std::size_t>(got)));
  return true;
}

bool FileHandleTable::try_write(OpenHandle& open, std::uint64_t id, const std::byte* data, std::size_t size,
                                std::int64_t offset) {
  // As write(2): as much as goes without blocking; only nothing at all waits.
  std::size_t done = 0;
  while (done < size) {
    const ssize_t wrote = offset < 0 ? ::write(open.fd.get(), data + done, size - done)
                                     : ::pwrite(open.fd.get(), data + done, size - done,
                                                offset + static_cast<std::int64_t>(done));
    if (wrote < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      fail("fileWrite", open.path, static_cast<std::uint64_t>(open.fd.get()), errno);
    }
    done += static_cast<std::size_t>(wrote);
  }
  if (done == 0 && size > 0) return false;
  send_(written_response(id, done));
  return true;
}

void FileHandleTable::wait_for(int handle, WaitingIo io) {
  OpenHandle& open = handles_.at(handle);
  const bool is_write = io.is_write;
  open.waiting = std::move(io);
  try {
    open.waiting->watch =
        loop_.watch(handle, is_write ? EPOLLOUT : EPOLLIN, [this, handle](std::uint32_t) { on_ready(handle); });
  } catch (const std::exception&) {
    open.waiting.reset();  // not pollable either: report the would-block
    fail(is_write ? "fileWrite" : "fileRead", open.path, static_cast<std::uint64_t>(handle), EAGAIN);
  }
}

void FileHandleTable::on_ready(int handle) {
  auto found = handles_.find(handle);
  if (found == handles_.end() || !found->second.waiting) return;
  OpenHandle& open = found->second;
  WaitingIo& io = *open.waiting;
  const std::uint64_t id = io.request_id;
  try {
    const bool done = io.is_write ? try_write(open, id, io.data.data(), io.data.size(), io.offset)
                                  : try_read(open, id, io.max_bytes, io.offset);
    if (!done) return;  // woken, but someone else took the data or the room
  } catch (const std::system_error& e) {
    send_(error_response(id, e.code().value(), e.what()));
  }
  open.waiting.reset();  // the loop copied this callback; destroying its watch is safe
}

std::uint64_t FileHandleTable::seek(std::uint64_t handle, std::int64_t offset, int whence) {
  OpenHandle& open = find(handle, "fileSeek");
  const off_t position = ::lseek(open.fd.get(), offset, whence);
  if (position < 0) fail("fileSeek", open.path, handle, errno);
  return static_cast<std::uint64_t>(position);
}

std::uint64_t FileHandleTable::tell(std::uint64_t handle) {
  OpenHandle& open = find(handle, "fileTell");
  const off_t position = ::lseek(open.fd.get(), 0, SEEK_CUR);
  if (position < 0) fail("fileTell", open.path, handle, errno);
  return static_cast<std::uint64_t>(position);
}

void FileHandleTable::close(std::uint64_t handle) {
  OpenHandle& open = find(handle, "fileClose");
  if (open.waiting) {
    send_(error_response(open.waiting->request_id, EBADF,
                         std::string(open.waiting->is_write ? "fileWrite " : "fileRead ") +
                             describe(open.path, handle) + ": the handle was closed while waiting"));
  }
  handles_.erase(static_cast<int>(handle));
}

UniqueFd FileHandleTable::duplicate(std::uint64_t handle) const {
  const OpenHandle& open = find(handle, "fdStream");
  UniqueFd copy(::fcntl(open.fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!copy.valid()) fail("fdStream", open.path, handle, errno);
  return copy;
}

const std::string& FileHandleTable::path_of(std::uint64_t handle) const { return find(handle, "fdStream").path; }

std::size_t FileHandleTable::waiting_write_bytes() const {
  std::size_t total = 0;
  for (const auto& [handle, open] : handles_) {
    if (open.waiting && open.waiting->is_write) total += open.waiting->data.size();
  }
  return total;
}

}  // namespace provium::agent
