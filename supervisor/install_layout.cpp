#include "install_layout.h"

#include <cstdlib>
#include <system_error>

#include <unistd.h>

namespace provium {
namespace {

namespace fs = std::filesystem;

bool is_executable_file(const fs::path& path) {
  std::error_code ignored;
  return fs::is_regular_file(path, ignored) && ::access(path.c_str(), X_OK) == 0;
}

bool is_guest_dir(const fs::path& dir) {
  std::error_code ignored;
  for (const char* name : {"vmlinux", "initramfs.cpio", "cmdline"}) {
    if (!fs::is_regular_file(dir / name, ignored)) return false;
  }
  return true;
}

template <typename Predicate>
Located first_match(std::vector<fs::path> candidates, Predicate matches) {
  Located located;
  for (auto& candidate : candidates) {
    candidate = candidate.lexically_normal();
    located.searched.push_back(candidate);
    if (matches(candidate)) {
      located.path = candidate;
      break;
    }
  }
  return located;
}

}  // namespace

std::string Located::searched_list() const {
  std::string out;
  for (const auto& path : searched) out += (out.empty() ? "" : ", ") + path.string();
  return out;
}

fs::path executable_dir() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::current_path() : self.parent_path();
}

Located find_runner_binary(const fs::path& exe_dir) {
  if (const char* override_path = std::getenv("PROVIUM_RUNNER"); override_path && *override_path) {
    return first_match({fs::absolute(override_path)}, is_executable_file);
  }
  return first_match({exe_dir / ".." / "runner" / "provium-runner", exe_dir / "provium-runner",
                      exe_dir / ".." / "libexec" / "provium" / "provium-runner"},
                     is_executable_file);
}

Located find_agent_binary(const fs::path& exe_dir) {
  if (const char* override_path = std::getenv("PROVIUM_AGENT"); override_path && *override_path) {
    return first_match({fs::absolute(override_path)}, is_executable_file);
  }
  return first_match({exe_dir / ".." / "agent" / "provium-agent", exe_dir / "provium-agent",
                      exe_dir / ".." / "libexec" / "provium" / "provium-agent"},
                     is_executable_file);
}

Located find_bundled_guest_dir(const fs::path& exe_dir) {
  if (const char* override_dir = std::getenv("PROVIUM_GUEST_DIR"); override_dir && *override_dir) {
    return first_match({fs::absolute(override_dir)}, is_guest_dir);
  }
  return first_match({exe_dir / ".." / "guest", exe_dir / ".." / "share" / "provium" / "guest"}, is_guest_dir);
}

}  // namespace provium
