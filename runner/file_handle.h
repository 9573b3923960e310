// An open guest file handle (vm:open_file): the VM it lives in, the path it
// was opened with (for error texts) and the agent's descriptor number.
#pragma once

#include "vm.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace provium::runner {

// OpenFileRequest.mode bits plus the permission for a file the open creates.
struct OpenMode {
  std::uint32_t bits = 0;
  std::uint32_t perm = 0644;
};

class FileHandle {
 public:
  // `worker` 0: opened by the main agent; otherwise by that worker.
  FileHandle(std::shared_ptr<Vm> vm, std::string path, std::uint64_t handle, std::uint32_t worker = 0)
      : vm_(std::move(vm)), path_(std::move(path)), handle_(handle), worker_(worker), epoch_(vm_->agent_epoch()) {}
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  // All throw std::runtime_error "vm `a`: file `/p`: <op>: ..."; after close
  // the message ends "file is closed".
  std::string read(std::uint32_t max_bytes);
  std::string read_all();
  std::uint64_t write(std::string_view data);
  std::uint64_t seek(std::int64_t offset, int whence);
  std::uint64_t tell();
  // Idempotent; a VM that is gone has closed it already.
  void close();
  // The agent's descriptor number, 0 once closed.
  std::uint64_t fd() const { return closed() ? 0 : handle_; }
  // Closed by close(), by its worker's end (forget), or gone with the agent
  // session it belonged to (reset).
  bool closed() const { return closed_ || vm_->agent_epoch() != epoch_; }
  std::uint32_t worker() const { return worker_; }
  // The worker it belongs to was closed: its descriptor went with it.
  void forget() { closed_ = true; }
  const std::string& path() const { return path_; }
  Vm& vm() const { return *vm_; }
  const std::shared_ptr<Vm>& vm_owner() const { return vm_; }

 private:
  std::string what() const { return "file `" + path_ + "`"; }
  void require_open(const char* op) const;

  std::shared_ptr<Vm> vm_;
  std::string path_;
  std::uint64_t handle_;
  std::uint32_t worker_;
  std::uint64_t epoch_;  // the VM's agent session it was opened in
  bool closed_ = false;
};

}  // namespace provium::runner
