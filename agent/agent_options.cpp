#include "agent_options.h"

#include <charconv>
#include <string_view>

namespace provium::agent {

AgentOptions parse_agent_options(int argc, char** argv) {
  AgentOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--connect-fd" && has_value) {
      const std::string_view value = argv[++i];
      int fd = -1;
      const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), fd);
      if (error != std::errc() || end != value.data() + value.size() || fd < 0) {
        options.error = "--connect-fd needs a file descriptor number, not `" + std::string(value) + "`";
      } else {
        options.connect_fd = fd;
      }
    } else if (arg == "--port-name" && has_value) {
      options.port_name = argv[++i];
    } else if (arg == "--version") {
      options.show_version = true;
    } else if (arg == "--help" || arg == "-h") {
      options.show_help = true;
    } else if (options.error.empty()) {
      options.error = "unexpected argument `" + std::string(arg) + "`";
    }
  }
  return options;
}

}  // namespace provium::agent
