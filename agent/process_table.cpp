#include "process_table.h"

#include <cerrno>
#include <string>
#include <system_error>

namespace provium::agent {

ProcessTable::ProcessTable(EventLoop& loop, ChildReaper& reaper, StreamTable& streams, AsyncProcess::Send send)
    : loop_(loop), reaper_(reaper), streams_(streams), send_(std::move(send)) {}

StartedProcess ProcessTable::spawn(const SpawnRequest& request, std::vector<std::byte> stdin_data,
                                   std::uint64_t credit) {
  if (processes_.size() >= kMaxProcesses) {
    throw std::system_error(EAGAIN, std::generic_category(),
                            "spawn: " + std::to_string(kMaxProcesses) + " processes are already running in this session");
  }
  if (streams_.size() + 2 > kMaxStreams) {
    throw std::system_error(EMFILE, std::generic_category(), "spawn: no room for two more streams in this session");
  }
  check_stdin_budget(stdin_data.size());

  SpawnedProcess spawned = spawn_process(request);
  StartedProcess started;
  started.process = next_id_++;
  started.pid = spawned.pid;
  const std::uint64_t process = started.process;
  auto async = std::make_unique<AsyncProcess>(
      loop_, reaper_, spawned.pid, std::move(spawned.stdin_write), send_,
      [this, process] { processes_.erase(process); });
  AsyncProcess& added = *processes_.emplace(process, std::move(async)).first->second;
  try {
    started.stdout_stream = streams_.open(std::move(spawned.stdout_read), false, credit);
    started.stderr_stream = streams_.open(std::move(spawned.stderr_read), false, credit);
    if (!stdin_data.empty()) added.write_stdin(std::nullopt, std::move(stdin_data));
  } catch (...) {
    if (started.stdout_stream != 0) streams_.close(started.stdout_stream);
    if (started.stderr_stream != 0) streams_.close(started.stderr_stream);
    processes_.erase(process);  // kills it
    throw;
  }
  return started;
}

AsyncProcess& ProcessTable::find(std::uint64_t process, const char* op) {
  auto found = processes_.find(process);
  if (found == processes_.end()) {
    throw std::system_error(ESRCH, std::generic_category(),
                            std::string(op) + ": no process " + std::to_string(process) +
                                " (never spawned, or its exit was already reported)");
  }
  return *found->second;
}

void ProcessTable::write_stdin(std::uint64_t id, std::uint64_t process, std::vector<std::byte> data) {
  AsyncProcess& target = find(process, "processWrite");
  check_stdin_budget(data.size());
  target.write_stdin(id, std::move(data));
}

void ProcessTable::check_stdin_budget(std::size_t more) const {
  std::size_t queued = 0;
  for (const auto& [id, process] : processes_) queued += process->queued_stdin_bytes();
  if (queued + more > kMaxQueuedStdinBytes) {
    throw std::system_error(ENOBUFS, std::generic_category(),
                            "processWrite: " + std::to_string(queued) + " bytes of stdin are already waiting; the limit is " +
                                std::to_string(kMaxQueuedStdinBytes));
  }
}

}  // namespace provium::agent
