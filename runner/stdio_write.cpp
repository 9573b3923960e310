#include "stdio_write.h"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace provium::runner {

void write_all_to_fd(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;
    }
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

void log_to_stderr(std::string_view text) {
  std::string line = "provium-runner: ";
  line += text;
  line += '\n';
  write_all_to_fd(2, line);
}

}  // namespace provium::runner
