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
#include <string>

namespace provium::runner {

struct BootedVm {
  kj::AutoCloseFd agent_fd;   // our own copy of the agent connection
  VmInfo info;
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
