#include "resource_limits.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace provium::runner::sandbox {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kUnderAsan = true;
#else
constexpr bool kUnderAsan = false;
#endif
#else
constexpr bool kUnderAsan = false;
#endif

constexpr rlim_t kGiB = rlim_t{1} << 30;

std::vector<ResourceLimit> build_limits() {
  // RLIMIT_NPROC is deliberately absent: it counts the whole uid, and the
  // seccomp filter already forbids fork and clone.
  std::vector<ResourceLimit> limits = {
      {RLIMIT_CORE, "RLIMIT_CORE", 0},
      {RLIMIT_FSIZE, "RLIMIT_FSIZE", 0},
      {RLIMIT_NOFILE, "RLIMIT_NOFILE", 256},
      {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 0},
  };
  if (!kUnderAsan) limits.push_back({RLIMIT_AS, "RLIMIT_AS", 4 * kGiB});
  return limits;
}

}  // namespace

std::span<const ResourceLimit> runner_resource_limits() {
  static const std::vector<ResourceLimit> limits = build_limits();
  return limits;
}

void apply_resource_limits(std::span<const ResourceLimit> limits) {
  for (const ResourceLimit& limit : limits) {
    rlimit current{};
    if (getrlimit(limit.resource, &current) != 0) {
      throw std::runtime_error(std::string("getrlimit(") + limit.name + "): " + std::strerror(errno));
    }
    // Never raise a limit the parent already set lower.
    const rlim_t value = current.rlim_max < limit.value ? current.rlim_max : limit.value;
    const rlimit wanted{value, value};
    if (setrlimit(limit.resource, &wanted) != 0) {
      throw std::runtime_error(std::string("setrlimit(") + limit.name + ", " + std::to_string(value) +
                               "): " + std::strerror(errno));
    }
  }
}

}  // namespace provium::runner::sandbox
