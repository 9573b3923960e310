#include "nft_script.h"

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>
#include <nftables/libnftables.h>

namespace provium::netsetup {
namespace {

// libnftables keeps process-wide state (a one-time init, an interface
// cache), so only one context is used at a time.
std::mutex nft_mutex;

struct ContextRelease {
  void operator()(nft_ctx* context) const { nft_ctx_free(context); }
};

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return std::string(text);
}

// nft reports "Error: why\n<the script line>\n<carets>"; one line reads
// better in a report: "Error: why, in `the script line`".
std::string one_line(std::string_view report) {
  const auto first_end = report.find('\n');
  std::string line = trimmed(report.substr(0, first_end));
  if (first_end == std::string_view::npos) return line;
  const std::string_view rest = report.substr(first_end + 1);
  const std::string offending = trimmed(rest.substr(0, rest.find('\n')));
  if (!offending.empty()) line += fmt::format(", in `{}`", offending);
  return line;
}

}  // namespace

void run_nft_script(const NetNamespace& ns, const std::string& script, const std::string& what) {
  const std::lock_guard lock(nft_mutex);
  // The context opens its netlink socket when made, and looks interfaces up
  // later: both have to happen inside the namespace.
  ns.run_inside([&] {
    const std::unique_ptr<nft_ctx, ContextRelease> context(nft_ctx_new(NFT_CTX_DEFAULT));
    if (!context) throw std::runtime_error(what + ": nftables: cannot create a context");
    nft_ctx_buffer_output(context.get());
    nft_ctx_buffer_error(context.get());
    if (nft_run_cmd_from_buffer(context.get(), script.c_str()) != 0) {
      const std::string reason = one_line(nft_ctx_get_error_buffer(context.get()));
      throw std::runtime_error(fmt::format("{}: nftables: {}", what, reason.empty() ? "failed" : reason));
    }
  });
}

}  // namespace provium::netsetup
