#include "guest_process.h"

#include "guest_worker.h"

#include <cerrno>
#include <csignal>
#include <stdexcept>

namespace provium::runner {
namespace {

const char* status_name(const ProcessExit& exit) {
  if (exit.running) return "running";
  switch (exit.status) {
    case CommandStatus::exited: return "exited";
    case CommandStatus::signalled: return "signalled";
    case CommandStatus::timed_out: return "timed_out";
  }
  return "exited";
}

bool is_timeout(const AgentError& error) { return error.kind() == AgentError::Kind::timeout; }

}  // namespace

GuestProcess::GuestProcess(std::shared_ptr<Vm> vm, std::shared_ptr<GuestWorker> worker, SpawnedProcess spawned,
                           std::string display)
    : vm_(std::move(vm)), worker_(std::move(worker)), spawned_(spawned), display_(std::move(display)) {
  stdout_.key = spawned_.stdout_key;
  stderr_.key = spawned_.stderr_key;
}

GuestProcess::~GuestProcess() {
  // Collected (or its scope ended) while running: it must not outlive the test.
  try {
    close();
  } catch (const std::exception&) {
  }
}

std::uint32_t GuestProcess::worker_id() const { return worker_ ? worker_->id() : 0; }

bool GuestProcess::gone() const { return vm_->state() != VmState::booted || (worker_ && worker_->closed()); }

std::string GuestProcess::op(const char* method) const {
  return std::string("proc:") + method + " (pid " + std::to_string(spawned_.pid) + ")";
}

void GuestProcess::fail(const char* method, const std::string& message) const {
  throw std::runtime_error("vm `" + vm_->name() + "`: " + op(method) + ": " + message);
}

void GuestProcess::require_running(const char* method) const {
  if (result_ || exit_) fail(method, "the process has already exited (`" + display_ + "`)");
  if (gone()) {
    fail(method, worker_ && worker_->closed() && vm_->state() == VmState::booted
                     ? "its worker is closed, and the process went with it"
                     : "the VM is " + std::string(to_string(vm_->state())) + ", and the process went with it");
  }
}

void GuestProcess::keep(Output& output, const std::string& data) {
  const std::size_t room = kProcessCaptureLimit - std::min(kProcessCaptureLimit, output.kept.size());
  output.kept.append(data, 0, std::min(room, data.size()));
  output.discarded += data.size() - std::min(room, data.size());
}

void GuestProcess::pump(AgentClient& agent, Deadline deadline) {
  for (Output* output : {&stdout_, &stderr_}) {
    if (output->handed_out || output->collected) continue;
    for (std::string data; !(data = agent.stream_take_buffered(output->key, kStreamChunkMax, deadline)).empty();) {
      keep(*output, data);
    }
  }
}

void GuestProcess::collect_rest(AgentClient& agent, Deadline deadline) {
  const Deadline grace = Deadline::after(kOutputGraceAfterExit).earliest(deadline);
  for (Output* output : {&stdout_, &stderr_}) {
    if (output->handed_out || output->collected) continue;
    try {
      for (std::string data; !(data = agent.stream_read(output->key, kStreamChunkMax, grace)).empty();) {
        keep(*output, data);
      }
    } catch (const AgentError& error) {
      // The grace ran out (a child still holds the pipe): what came is the
      // output. The test's own deadline passing is another matter.
      if (!is_timeout(error) || deadline.expired()) throw;
    }
    output->collected = true;
    agent.stream_close(output->key, deadline);
  }
}

bool GuestProcess::signal_group(AgentClient& agent, int signo, Deadline deadline) {
  try {
    agent.process_signal(spawned_.process, signo, true, deadline, worker_id());
    return true;
  } catch (const AgentError& error) {
    if (error.kind() == AgentError::Kind::remote && error.remote_errno() == ESRCH) return false;
    throw;
  }
}

void GuestProcess::finish(AgentClient& agent, Deadline deadline, std::optional<Millis> timeout, bool terminate) {
  const auto pump_now = [&] { pump(agent, deadline); };
  bool timed_out = false;
  ProcessExit exit;
  if (exit_) {
    exit = *exit_;
  } else {
    if (terminate && signal_group(agent, SIGTERM, deadline)) timeout = kProcessTermGrace;
    exit = agent.process_wait(spawned_.process, timeout, deadline, worker_id(), pump_now);
    if (exit.running) {
      // Killed by us: timed out (unless it exited just before the kill).
      timed_out = signal_group(agent, SIGKILL, deadline) && !terminate;
      exit = agent.process_wait(spawned_.process, std::nullopt, deadline, worker_id(), pump_now);
    }
  }
  collect_rest(agent, deadline);
  CommandResult result;
  result.status = timed_out ? CommandStatus::timed_out : exit.status;
  result.exit_code = timed_out ? -2 : exit.exit_code;
  result.signal = timed_out ? 0 : exit.signal;
  result.stdout_data = std::move(stdout_.kept);
  result.stderr_data = std::move(stderr_.kept);
  result_ = std::move(result);
}

CommandResult GuestProcess::wait(std::optional<Millis> timeout) {
  if (result_) return *result_;
  if (gone()) require_running("wait");
  vm_->with_agent(op("wait"), [&](AgentClient& agent, Deadline deadline) { finish(agent, deadline, timeout, false); });
  return *result_;
}

std::string GuestProcess::status() {
  if (result_) {
    switch (result_->status) {
      case CommandStatus::exited: return "exited";
      case CommandStatus::signalled: return "signalled";
      case CommandStatus::timed_out: return "timed_out";
    }
  }
  if (exit_) return status_name(*exit_);
  if (gone()) require_running("status");
  vm_->with_agent(op("status"), [&](AgentClient& agent, Deadline deadline) {
    // A zero limit is a poll; an exit it reports is the agent's last word on
    // this process, so it is kept for wait().
    const ProcessExit exit = agent.process_wait(spawned_.process, Millis(0), deadline, worker_id());
    if (!exit.running) exit_ = exit;
  });
  return exit_ ? status_name(*exit_) : "running";
}

void GuestProcess::signal(int signo, const char* method) {
  require_running(method);
  vm_->with_agent(op(method), [&](AgentClient& agent, Deadline deadline) {
    agent.process_signal(spawned_.process, signo, false, deadline, worker_id());
  });
}

std::uint64_t GuestProcess::stdin_write(std::string_view data) {
  if (stdin_closed_) fail("stdin_write", "stdin is closed (proc:close_stdin was called)");
  require_running("stdin_write");
  std::uint64_t written = 0;
  vm_->with_agent(op("stdin_write"), [&](AgentClient& agent, Deadline deadline) {
    written = agent.process_write(spawned_.process, data, deadline, worker_id());
  });
  return written;
}

void GuestProcess::close_stdin() {
  if (stdin_closed_ || result_ || exit_ || gone()) {
    stdin_closed_ = true;
    return;
  }
  stdin_closed_ = true;
  vm_->with_agent(op("close_stdin"), [&](AgentClient& agent, Deadline deadline) {
    agent.process_close_stdin(spawned_.process, deadline, worker_id());
  });
}

std::shared_ptr<GuestStream> GuestProcess::output_stream(bool stderr_stream) {
  Output& output = stderr_stream ? stderr_ : stdout_;
  const char* method = stderr_stream ? "stderr_stream" : "stdout_stream";
  if (output.handed_out) return output.handed_out;
  if (output.collected || result_) {
    fail(method, std::string("the output was collected by proc:wait already (see its result's ") +
                     (stderr_stream ? "stderr" : "stdout") + "); take the stream before waiting");
  }
  if (gone()) require_running(method);
  output.handed_out =
      std::make_shared<GuestStream>(vm_, output.key, stderr_stream ? "proc_stderr_stream" : "proc_stdout_stream",
                                    "of pid " + std::to_string(spawned_.pid));
  return output.handed_out;
}

void GuestProcess::close_handed_out() {
  for (Output* output : {&stdout_, &stderr_}) {
    if (output->handed_out) output->handed_out->close();
  }
}

void GuestProcess::close() {
  if (closed_) return;
  closed_ = true;
  if (gone()) return;  // it went with the guest or the worker, and so did its streams
  if (!result_) {
    vm_->with_agent(op("close"), [&](AgentClient& agent, Deadline deadline) {
      finish(agent, deadline.earliest(Deadline::after(kProcessCloseLimit)), std::nullopt, true);
    });
  }
  close_handed_out();
}

}  // namespace provium::runner
