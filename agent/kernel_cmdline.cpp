#include "kernel_cmdline.h"

#include "unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace provium::agent {

std::string read_kernel_cmdline() {
  UniqueFd fd(::open("/proc/cmdline", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return {};
  char buffer[4096];  // the kernel's COMMAND_LINE_SIZE is 2048 on x86
  const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
  return got > 0 ? std::string(buffer, static_cast<std::size_t>(got)) : std::string();
}

std::optional<std::int64_t> cmdline_integer(std::string_view cmdline, std::string_view name) {
  std::optional<std::int64_t> found;
  std::size_t start = 0;
  while (start < cmdline.size()) {
    const std::size_t end = std::min(cmdline.find_first_of(" \t\n", start), cmdline.size());
    std::string_view word = cmdline.substr(start, end - start);
    start = end + 1;
    if (!word.starts_with(name) || word.size() <= name.size() || word[name.size()] != '=') continue;
    word.remove_prefix(name.size() + 1);
    std::int64_t value = 0;
    const auto [rest, error] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (error == std::errc() && rest == word.data() + word.size() && value >= 0) {
      found = value;
    } else {
      found.reset();
    }
  }
  return found;
}

}  // namespace provium::agent
