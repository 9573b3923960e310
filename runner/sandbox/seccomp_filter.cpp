#include "seccomp_filter.h"

#include <seccomp.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace provium::runner::sandbox {
namespace {

struct FilterDeleter {
  void operator()(void* context) const { seccomp_release(context); }
};
using FilterContext = std::unique_ptr<void, FilterDeleter>;

void check(int rc, const std::string& step) {
  // libseccomp returns -errno.
  if (rc < 0) throw std::runtime_error("seccomp: " + step + ": " + std::strerror(-rc));
}

void add_rule(scmp_filter_ctx context, const AllowedSyscall& entry) {
  const int number = seccomp_syscall_resolve_name(entry.name);
  // A name this architecture lacks (e.g. `poll` on arm64) has nothing to allow.
  if (number == __NR_SCMP_ERROR) return;
  const std::string step = std::string("allow ") + entry.name;
  if (entry.arg0_is_own_pid) {
    check(seccomp_rule_add(context, SCMP_ACT_ALLOW, number, 1,
                           SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(getpid()))),
          step);
  } else if (entry.has_condition) {
    const auto& c = entry.condition;
    check(seccomp_rule_add(context, SCMP_ACT_ALLOW, number, 1,
                           scmp_arg_cmp{c.arg, SCMP_CMP_MASKED_EQ, c.mask, c.value}),
          step);
  } else {
    check(seccomp_rule_add(context, SCMP_ACT_ALLOW, number, 0), step);
  }
}

}  // namespace

void install_seccomp_filter(std::span<const AllowedSyscall> policy) {
  FilterContext context(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!context) throw std::runtime_error("seccomp: seccomp_init failed");
  // Syscalls through a foreign ABI (int 0x80, x32) die the same way.
  check(seccomp_attr_set(context.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
        "set the bad-architecture action");
  for (const AllowedSyscall& entry : policy) add_rule(context.get(), entry);
  check(seccomp_load(context.get()), "load the filter");
}

}  // namespace provium::runner::sandbox
