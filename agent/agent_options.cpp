#include "agent_options.h"

#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>

namespace provium::agent {
namespace {

// A whole decimal number that fits `Number`, or nullopt.
template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

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
    } else if ((arg == "--worker" || arg == "--worker-uid" || arg == "--worker-gid" ||
                arg == "--retirement-grace-ms") && has_value) {
      const std::string_view value = argv[++i];
      const auto number = parse_number<std::uint32_t>(value);
      if (!number && options.error.empty()) {
        options.error = std::string(arg) + " needs a number, not `" + std::string(value) + "`";
      } else if (number && arg == "--worker") {
        options.worker_id = *number;
      } else if (number && arg == "--retirement-grace-ms") {
        options.retirement_grace_ms = *number;
      } else if (number && arg == "--worker-uid") {
        options.worker_credentials.uid = *number;
      } else if (number) {
        options.worker_credentials.gid = *number;
      }
    } else if (arg == "--worker-groups" && has_value) {
      try {
        options.worker_credentials.groups = parse_group_list(argv[++i]);
      } catch (const std::invalid_argument& e) {
        if (options.error.empty()) options.error = std::string("--worker-groups: ") + e.what();
      }
    } else if (arg == "--hosts-file" && has_value) {
      options.hosts_file = argv[++i];
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
