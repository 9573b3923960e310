#include "worker_table.h"

#include <cerrno>
#include <string>
#include <system_error>

namespace provium::agent {

WorkerTable::WorkerTable(EventLoop& loop, ChildReaper& reaper, ProcessRetirement& retirement, FrameChannel& host,
                         Send send)
    : loop_(loop), reaper_(reaper), retirement_(retirement), host_(host), send_(std::move(send)) {}

void WorkerTable::spawn(std::uint64_t id, const WorkerCredentials& credentials) {
  if (workers_.size() >= kMaxWorkers) {
    throw std::system_error(EAGAIN, std::generic_category(),
                            "spawnWorker: " + std::to_string(kMaxWorkers) + " workers are already running in this session");
  }
  const std::uint32_t worker = next_id_++;
  WorkerLink::Hooks hooks{
      .to_host = send_,
      .host_has_room = [this] { return host_.has_room(); },
      .on_gone =
          [this, worker] {
            // The link's channel callback is on the stack: drop it afterwards.
            loop_.defer(liveness_.guard([this, worker] { workers_.erase(worker); }));
          },
  };
  workers_.emplace(worker, std::make_unique<WorkerLink>(loop_, reaper_, retirement_, worker, credentials, id,
                                                        std::move(hooks)));
}

WorkerLink& WorkerTable::find(std::uint32_t worker, const char* op) {
  auto found = workers_.find(worker);
  if (found == workers_.end()) {
    throw std::system_error(ENOENT, std::generic_category(),
                            std::string(op) + ": no worker " + std::to_string(worker) + " in this session");
  }
  return *found->second;
}

void WorkerTable::forward(std::uint32_t worker, std::uint64_t id, bool answered, kj::Array<capnp::word> body) {
  find(worker, "request for a worker").forward(id, answered, std::move(body));
}

void WorkerTable::close(std::uint32_t worker, std::function<void()> on_exit) {
  find(worker, "closeWorker").close([on_exit = std::move(on_exit)](int) { on_exit(); });
  workers_.erase(worker);
}

void WorkerTable::resume_all() {
  for (auto& [id, link] : workers_) link->resume_reading();
}

}  // namespace provium::agent
