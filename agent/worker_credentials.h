// Who a worker runs as. The main agent passes them on the worker's command
// line; the worker takes them on before it serves anything, so every run,
// spawn, file operation and syscall it performs uses them (real, effective,
// saved and filesystem ids alike; a non-zero uid also loses all capabilities).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace provium::agent {

struct WorkerCredentials {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary; empty: none
};

// Groups first, then gid, then uid (after which the rest is not allowed).
// Throws std::system_error naming the step that failed.
void assume_credentials(const WorkerCredentials& credentials);

// "1,2,3" <-> {1, 2, 3}; parse throws std::invalid_argument.
std::string format_group_list(const std::vector<gid_t>& groups);
std::vector<gid_t> parse_group_list(const std::string& text);

}  // namespace provium::agent
