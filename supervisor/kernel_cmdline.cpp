#include "kernel_cmdline.h"

#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace provium {
namespace {

std::vector<std::string> words(const std::string& cmdline) {
  std::istringstream in(cmdline);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

std::string append(const std::string& cmdline, const std::string& word) {
  const auto end = cmdline.find_last_not_of(" \t\r\n");
  return end == std::string::npos ? word : cmdline.substr(0, end + 1) + " " + word;
}

}  // namespace

std::string with_agent_rdinit(const std::string& cmdline) {
  const std::string wanted = std::string("rdinit=") + kAgentRdinit;
  for (const auto& word : words(cmdline)) {
    if (word == wanted) return cmdline;
    if (word.rfind("rdinit=", 0) == 0) {
      throw std::invalid_argument(fmt::format(
          "the kernel cmdline pins `{}`, but inject_agent needs `{}`; remove it or set inject_agent = false", word,
          wanted));
    }
  }
  return append(cmdline, wanted);
}

std::string with_serial_console(const std::string& cmdline) {
  for (const auto& word : words(cmdline)) {
    if (word == "console=ttyS0" || word.rfind("console=ttyS0,", 0) == 0) return cmdline;
  }
  return append(cmdline, "console=ttyS0");
}

std::string with_seeded_rng(const std::string& cmdline) {
  return append(cmdline, fmt::format("provium.rng_preamble={}", kRngPreambleBytes));
}

std::string with_initial_time(const std::string& cmdline, std::int64_t initial_time_ns) {
  return append(cmdline, fmt::format("{}={}", kInitialTimeParameter, initial_time_ns));
}

}  // namespace provium
