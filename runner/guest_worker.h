// A Worker (900-worker.md): a second agent process in the same guest, with
// its own credentials, serving requests that carry its id concurrently with
// the main agent. It tracks the processes and files opened through it so that
// worker:kill, worker:join and worker:close reach them; closing it (or its
// scope ending) closes those first, then stops the worker process.
#pragma once

#include "agent_client.h"
#include "file_handle.h"
#include "guest_process.h"
#include "vm.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace provium::runner {

class GuestWorker {
 public:
  GuestWorker(std::shared_ptr<Vm> vm, StartedWorker started) : vm_(std::move(vm)), started_(started) {}
  ~GuestWorker();
  GuestWorker(const GuestWorker&) = delete;
  GuestWorker& operator=(const GuestWorker&) = delete;

  std::uint32_t id() const { return started_.worker; }
  std::int32_t pid() const { return started_.pid; }
  Vm& vm() const { return *vm_; }
  const std::shared_ptr<Vm>& vm_owner() const { return vm_; }
  // Closed here, or gone with its VM.
  bool closed() const { return closed_ || vm_->state() != VmState::booted; }
  // "worker:<method> (worker N)", the op part of error texts.
  std::string op(const char* method) const;
  // Throws "vm `a`: worker:<method> (worker N): the worker is closed".
  void require_open(const char* method) const;

  void track(const std::shared_ptr<GuestProcess>& process) { processes_.push_back(process); }
  void track(const std::shared_ptr<FileHandle>& file) { files_.push_back(file); }

  // Signals every process started through it that has not been waited.
  void kill(int signo);
  // Waits for each of those; their results, oldest first.
  std::vector<CommandResult> join();
  // Closes its files and processes, then stops it. Idempotent.
  void close();

 private:
  std::vector<std::shared_ptr<GuestProcess>> live_processes();

  std::shared_ptr<Vm> vm_;
  StartedWorker started_;
  bool closed_ = false;
  std::vector<std::weak_ptr<GuestProcess>> processes_;
  std::vector<std::weak_ptr<FileHandle>> files_;
};

}  // namespace provium::runner
