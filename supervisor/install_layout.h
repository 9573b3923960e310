// Where our own pieces live relative to the `provium` binary, in the build tree
// (build/supervisor/provium next to build/runner/ and build/guest/) and when
// installed (<prefix>/bin, <prefix>/libexec/provium, <prefix>/share/provium).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace provium {

// The directory holding the running binary (from /proc/self/exe).
std::filesystem::path executable_dir();

struct Located {
  std::optional<std::filesystem::path> path;
  std::vector<std::filesystem::path> searched;  // for "not found" messages

  std::string searched_list() const;
};

// provium-runner: $PROVIUM_RUNNER if set, else <exe>/../runner/provium-runner,
// <exe>/provium-runner, <exe>/../libexec/provium/provium-runner.
Located find_runner_binary(const std::filesystem::path& exe_dir);

// provium-agent, for --vmm local: $PROVIUM_AGENT if set, else
// <exe>/../agent/provium-agent, <exe>/provium-agent,
// <exe>/../libexec/provium/provium-agent.
Located find_agent_binary(const std::filesystem::path& exe_dir);

// The bundled guest directory (vmlinux, initramfs.cpio, cmdline):
// $PROVIUM_GUEST_DIR if set, else <exe>/../guest, <exe>/../share/provium/guest.
Located find_bundled_guest_dir(const std::filesystem::path& exe_dir);

}  // namespace provium
