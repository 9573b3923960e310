#include "file_handle.h"

#include <stdexcept>

namespace provium::runner {
namespace {

// read_all's request size: large enough to be quick, small enough to stay
// far below the frame limit.
constexpr std::uint32_t kReadAllChunk = 64 * 1024;

}  // namespace

FileHandle::~FileHandle() {
  // Collected without close(): the agent's descriptor would leak until the
  // session ends, so close it now; errors have no one to go to.
  if (closed() || vm_->state() != VmState::booted) return;
  try {
    close();
  } catch (const std::exception&) {
  }
}

void FileHandle::require_open(const char* op) const {
  if (closed()) throw std::runtime_error("vm `" + vm_->name() + "`: " + what() + ": " + op + ": file is closed");
}

std::string FileHandle::read(std::uint32_t max_bytes) {
  require_open("read");
  return vm_->file_read(what(), handle_, max_bytes, worker_);
}

std::string FileHandle::read_all() {
  require_open("read_all");
  std::string all;
  for (;;) {
    std::string chunk = vm_->file_read(what(), handle_, kReadAllChunk, worker_);
    if (chunk.empty()) return all;
    all += chunk;
  }
}

std::uint64_t FileHandle::write(std::string_view data) {
  require_open("write");
  return vm_->file_write(what(), handle_, data, worker_);
}

std::uint64_t FileHandle::seek(std::int64_t offset, int whence) {
  require_open("seek");
  return vm_->file_seek(what(), handle_, offset, whence, worker_);
}

std::uint64_t FileHandle::tell() {
  require_open("tell");
  return vm_->file_tell(what(), handle_, worker_);
}

void FileHandle::close() {
  if (closed()) {
    closed_ = true;
    return;
  }
  closed_ = true;
  if (vm_->state() != VmState::booted) return;  // the agent session is gone, and the handle with it
  vm_->file_close(what(), handle_, worker_);
}

}  // namespace provium::runner
