#include "landlock.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <kj/io.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace provium::runner::sandbox {
namespace {

// Our own copy of the uapi layout: the build host's headers may predate the
// fields a newer kernel understands; the size we pass tells it which we use.
struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;  // ABI >= 4
  std::uint64_t scoped;              // ABI >= 6
};

constexpr unsigned kCreateRulesetVersion = 1u << 0;

// Filesystem rights by the ABI version that introduced them.
constexpr std::uint64_t kFsAbi1 = (1ull << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr std::uint64_t kFsRefer = 1ull << 13;       // ABI 2
constexpr std::uint64_t kFsTruncate = 1ull << 14;    // ABI 3
constexpr std::uint64_t kFsIoctlDev = 1ull << 15;    // ABI 5
constexpr std::uint64_t kNetBindAndConnectTcp = (1ull << 0) | (1ull << 1);  // ABI 4
constexpr std::uint64_t kScopeAbstractUnixAndSignal = (1ull << 0) | (1ull << 1);  // ABI 6

RulesetAttr everything_for(int abi, std::size_t* size) {
  RulesetAttr attr{};
  attr.handled_access_fs = kFsAbi1;
  if (abi >= 2) attr.handled_access_fs |= kFsRefer;
  if (abi >= 3) attr.handled_access_fs |= kFsTruncate;
  if (abi >= 5) attr.handled_access_fs |= kFsIoctlDev;
  *size = offsetof(RulesetAttr, handled_access_net);
  if (abi >= 4) {
    attr.handled_access_net = kNetBindAndConnectTcp;
    *size = offsetof(RulesetAttr, scoped);
  }
  if (abi >= 6) {
    attr.scoped = kScopeAbstractUnixAndSignal;
    *size = sizeof(RulesetAttr);
  }
  return attr;
}

}  // namespace

LandlockResult restrict_with_landlock() {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  if (abi < 0) {
    if (errno == ENOSYS || errno == EOPNOTSUPP) {
      return {false, 0, std::string("Landlock unavailable (") + std::strerror(errno) + "); seccomp alone confines the runner"};
    }
    throw std::runtime_error(std::string("landlock_create_ruleset(version): ") + std::strerror(errno));
  }
  std::size_t size = 0;
  const RulesetAttr attr = everything_for(static_cast<int>(abi), &size);
  const long fd = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (fd < 0) throw std::runtime_error(std::string("landlock_create_ruleset: ") + std::strerror(errno));
  kj::AutoCloseFd ruleset(static_cast<int>(fd));
  if (syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    throw std::runtime_error(std::string("landlock_restrict_self: ") + std::strerror(errno));
  }
  return {true, static_cast<int>(abi), {}};
}

}  // namespace provium::runner::sandbox
