#include "worker_credentials.h"

#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace provium::agent {
namespace {

[[noreturn]] void fail(const std::string& step) {
  throw std::system_error(errno, std::generic_category(), step);
}

// Whether the supplementary groups are `wanted` already (in any order).
bool has_groups(std::vector<gid_t> wanted) {
  const int count = ::getgroups(0, nullptr);
  if (count < 0) return false;
  std::vector<gid_t> current(static_cast<std::size_t>(count));
  if (::getgroups(count, current.data()) != count) return false;
  std::sort(current.begin(), current.end());
  std::sort(wanted.begin(), wanted.end());
  return current == wanted;
}

}  // namespace

void assume_credentials(const WorkerCredentials& credentials) {
  // Skipped when nothing changes: a user namespace whose setgroups is
  // "deny" (the --vmm local sandbox) refuses even a call that changes nothing.
  if (!has_groups(credentials.groups) &&
      ::setgroups(credentials.groups.size(), credentials.groups.data()) != 0) {
    fail("setgroups");
  }
  if (::setresgid(credentials.gid, credentials.gid, credentials.gid) != 0) {
    fail("setresgid " + std::to_string(credentials.gid));
  }
  if (::setresuid(credentials.uid, credentials.uid, credentials.uid) != 0) {
    fail("setresuid " + std::to_string(credentials.uid));
  }
}

std::string format_group_list(const std::vector<gid_t>& groups) {
  std::string text;
  for (gid_t group : groups) {
    if (!text.empty()) text += ',';
    text += std::to_string(group);
  }
  return text;
}

std::vector<gid_t> parse_group_list(const std::string& text) {
  std::vector<gid_t> groups;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    gid_t group = 0;
    const auto [end, error] = std::from_chars(text.data() + start, text.data() + comma, group);
    if (error != std::errc() || end != text.data() + comma) {
      throw std::invalid_argument("bad group id `" + text.substr(start, comma - start) + "`");
    }
    groups.push_back(group);
    start = comma + 1;
  }
  return groups;
}

}  // namespace provium::agent
