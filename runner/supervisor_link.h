// What the runner needs from the supervisor, as interfaces. The real
// implementation speaks Cap'n Proto (rpc_session.h); unit tests use fakes, so
// the framework and the Lua surface are testable without a supervisor.
#pragma once

#include "deadline.h"
#include "file_job.h"
#include "vm_spec.h"

#include <kj/io.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace provium::runner {

struct BootedVm {
  kj::AutoCloseFd agent_fd;   // our own copy of the agent connection
  VmInfo info;
};

// A host file the supervisor opened for vm:push_file.
struct HostFileOpened {
  kj::AutoCloseFd fd;
  std::uint64_t size = 0;
  std::string resolved;  // its real path on the host
};

// One VM as the supervisor holds it. Methods throw std::runtime_error with
// the supervisor's reason.
class VmBackend {
 public:
  virtual ~VmBackend() = default;
  // Starts the guest; gives up (throwing DeadlineExceeded) at `deadline`.
  virtual BootedVm boot(const VmSpec& spec, Deadline deadline) = 0;
  virtual void shutdown() = 0;
  virtual std::string console_tail(std::uint32_t max_bytes) = 0;

  // Console, lifecycle verbs and host files. The defaults refuse, for
  // backends (test fakes) that do not provide them.
  // Everything the console printed that the supervisor kept.
  virtual std::string console_log() { throw std::runtime_error("console: not provided by this backend"); }
  // A socket to the console: output (the kept log, then live) and/or input.
  virtual kj::AutoCloseFd open_console(bool output, bool input) {
    (void)output, (void)input;
    throw std::runtime_error("console: not provided by this backend");
  }
  virtual void pause() { throw std::runtime_error("pause: not provided by this backend"); }
  virtual void resume() { throw std::runtime_error("resume: not provided by this backend"); }
  // Warm reboot; returns a fresh agent connection (the old one is spent).
  virtual kj::AutoCloseFd reset(Deadline deadline) {
    (void)deadline;
    throw std::runtime_error("reset: not provided by this backend");
  }
  // Returns once the guest powered off.
  virtual void power_button(Deadline deadline) {
    (void)deadline;
    throw std::runtime_error("power_button: not provided by this backend");
  }
  virtual HostFileOpened open_host_file(const std::string& host_path, const std::string& relative_to) {
    (void)host_path, (void)relative_to;
    throw std::runtime_error("push_file: not provided by this backend");
  }
};

struct ModuleSource {
  std::string chunk_name;
  std::string source;
};

class SupervisorLink {
 public:
  virtual ~SupervisorLink() = default;
  virtual ModuleSource load_module(const std::string& name) = 0;
  virtual std::unique_ptr<VmBackend> create_vm(const std::string& name, const std::string& profile,
                                               const VmSpec& spec) = 0;
  virtual void test_started(const std::string& name) = 0;
  virtual void test_finished(const TestOutcome& outcome) = 0;
};

// A supervisor call that did not finish before the caller's deadline.
class DeadlineExceeded : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace provium::runner
