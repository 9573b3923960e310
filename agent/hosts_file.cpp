#include "hosts_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace provium::agent {
namespace {

constexpr std::string_view kBegin = "# provium: begin (managed by provium-agent; do not edit)";
constexpr std::string_view kEnd = "# provium: end";

void check_token(const std::string& token, const char* what) {
  if (token.empty() || token.size() > 253) throw std::system_error(EINVAL, std::generic_category(), std::string("setHosts: empty or overlong ") + what);
  for (char c : token) {
    if (c <= ' ' || c == '#' || c == 0x7f) {
      throw std::system_error(EINVAL, std::generic_category(),
                              std::string("setHosts: ") + what + " `" + token +
                                  "` contains whitespace, a control character or '#'");
    }
  }
}

}  // namespace

std::string with_managed_block(std::string_view current, const std::vector<HostsEntry>& entries) {
  std::string kept;
  bool inside = false;
  std::istringstream lines{std::string(current)};
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# provium: begin", 0) == 0) {
      inside = true;
    } else if (inside && line == kEnd) {
      inside = false;
    } else if (!inside) {
      kept += line + "\n";
    }
  }
  if (entries.empty()) return kept;
  std::string block = std::string(kBegin) + "\n";
  for (const HostsEntry& entry : entries) {
    block += entry.address;
    for (const std::string& name : entry.names) block += " " + name;
    block += "\n";
  }
  block += std::string(kEnd) + "\n";
  return kept + block;
}

void write_managed_hosts(const std::string& path, const std::vector<HostsEntry>& entries) {
  for (const HostsEntry& entry : entries) {
    check_token(entry.address, "address");
    if (entry.names.empty()) throw std::system_error(EINVAL, std::generic_category(), "setHosts: address " + entry.address + " has no names");
    for (const std::string& name : entry.names) check_token(name, "name");
  }
  std::string current;
  if (std::ifstream file(path); file) {
    std::stringstream content;
    content << file.rdbuf();
    current = content.str();
  }
  const std::string updated = with_managed_block(current, entries);
  const std::string temporary = path + ".provium-new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "setHosts: " + temporary);
  const ssize_t written = ::write(fd, updated.data(), updated.size());
  const int write_errno = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(updated.size())) {
    ::unlink(temporary.c_str());
    throw std::system_error(written < 0 ? write_errno : EIO, std::generic_category(), "setHosts: writing " + temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temporary.c_str());
    throw std::system_error(rename_errno, std::generic_category(), "setHosts: replacing " + path);
  }
}

}  // namespace provium::agent
