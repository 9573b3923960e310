#include "guest_worker.h"

#include <csignal>
#include <stdexcept>

namespace provium::runner {

GuestWorker::~GuestWorker() {
  try {
    close();
  } catch (const std::exception&) {
  }
}

std::string GuestWorker::op(const char* method) const {
  return std::string("worker:") + method + " (worker " + std::to_string(started_.worker) + ")";
}

void GuestWorker::require_open(const char* method) const {
  if (!closed()) return;
  throw std::runtime_error("vm `" + vm_->name() + "`: " + op(method) + ": the worker is closed" +
                           (closed_ ? "" : " (its VM is " + std::string(to_string(vm_->state())) + ")"));
}

std::vector<std::shared_ptr<GuestProcess>> GuestWorker::live_processes() {
  std::vector<std::shared_ptr<GuestProcess>> live;
  for (const auto& weak : processes_) {
    if (auto process = weak.lock(); process && !process->finished()) live.push_back(std::move(process));
  }
  return live;
}

void GuestWorker::kill(int signo) {
  require_open("kill");
  for (const auto& process : live_processes()) {
    // One that exited on its own since is no failure of a broadcast.
    if (process->status() == "running") process->signal(signo, "kill");
  }
}

std::vector<CommandResult> GuestWorker::join() {
  require_open("join");
  std::vector<CommandResult> results;
  for (const auto& process : live_processes()) results.push_back(process->wait(std::nullopt));
  return results;
}

void GuestWorker::close() {
  if (closed()) {
    closed_ = true;
    return;
  }
  // Its files and processes first, while it can still serve them; their
  // errors are not the worker's, and stopping it ends them anyway.
  for (const auto& weak : files_) {
    if (auto file = weak.lock()) {
      try {
        file->close();
      } catch (const std::exception&) {
      }
    }
  }
  const auto live = live_processes();
  for (const auto& process : live) {
    try {
      if (process->status() == "running") process->signal(SIGTERM, "close");
    } catch (const std::exception&) {
    }
  }
  for (const auto& process : live) {
    try {
      process->close();
    } catch (const std::exception&) {
    }
  }
  closed_ = true;
  vm_->with_agent(op("close"), [&](AgentClient& agent, Deadline deadline) {
    agent.close_worker(started_.worker, deadline.earliest(Deadline::after(kProcessCloseLimit)));
  });
}

}  // namespace provium::runner
