#include "log.h"

#include <unistd.h>

#include <cstring>
#include <string>

namespace provium::agent {

void log_error(std::string_view message) {
  std::string line = "provium-agent: ";
  line.append(message);
  line.push_back('\n');
  // One write so concurrent console output (kernel, children) cannot split the line.
  [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
}

void log_errno(std::string_view what, int error_number) {
  std::string message(what);
  message += ": ";
  message += std::strerror(error_number);
  log_error(message);
}

}  // namespace provium::agent
