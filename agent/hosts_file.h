// The block of /etc/hosts the agent owns: the names of the VMs on the
// guest's bridges. Rewriting it keeps every other line of the file as it was,
// and replaces the file with one rename, so a resolver never reads half of it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace provium::agent {

struct HostsEntry {
  std::string address;
  std::vector<std::string> names;
};

// `current` with the managed block replaced by `entries` (or removed when
// there are none). Pure, for tests.
std::string with_managed_block(std::string_view current, const std::vector<HostsEntry>& entries);

// Validates names and addresses (no whitespace, no '#', non-empty) and
// rewrites `path`. Throws std::system_error / std::invalid_argument naming
// what was wrong.
void write_managed_hosts(const std::string& path, const std::vector<HostsEntry>& entries);

}  // namespace provium::agent
