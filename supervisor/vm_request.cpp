#include "vm_request.h"

#include <fmt/format.h>

#include "config.h"
#include "kernel_cmdline.h"

namespace provium {
namespace {

// Latest accepted initial_time: 2100-01-01T00:00:00Z.
constexpr std::int64_t kMaxInitialTimeNs = 4102444800LL * 1'000'000'000LL;

bool printable(std::string_view text) {
  for (const unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

void check_guest_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.size() > kMaxGuestPathLength || !printable(path)) {
    throw VmRequestError(fmt::format("files: `{}` must be an absolute path of at most {} printable characters", path,
                                     kMaxGuestPathLength));
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      throw VmRequestError(fmt::format("files: `{}` must not contain empty, `.` or `..` components", path));
    }
    start = end + 1;
  }
}

void check_files_total(const std::vector<GuestFile>& files) {
  if (files.size() > kMaxGuestFiles) {
    throw VmRequestError(fmt::format("files: {} files; the limit is {}", files.size(), kMaxGuestFiles));
  }
  std::size_t total = 0;
  for (const auto& file : files) total += file.content.size();
  if (total > kMaxGuestFilesTotalBytes) {
    throw VmRequestError(fmt::format("files: {} bytes in total; the limit is {}", total, kMaxGuestFilesTotalBytes));
  }
}

}  // namespace

bool valid_vm_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxVmNameLength) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

VmRequest read_vm_request(wire::runner::VmOptions::Reader options, unsigned host_cpus) {
  VmRequest request;
  request.memory_bytes = options.getMemoryBytes();
  if (request.memory_bytes != 0 && (request.memory_bytes < kMinVmMemory || request.memory_bytes > kMaxVmMemory)) {
    throw VmRequestError(fmt::format("memory: {} bytes is outside 64M..16G", request.memory_bytes));
  }
  request.cpus = options.getCpus();
  if (request.cpus > host_cpus) {
    throw VmRequestError(fmt::format("cpus: {} is more than this host's {} CPUs", request.cpus, host_cpus));
  }
  const auto cmdline_text = options.getKernelCmdline();
  const std::string_view cmdline(cmdline_text.begin(), cmdline_text.size());  // may hide a NUL: check all bytes
  if (cmdline.size() > kMaxKernelCmdline || !printable(cmdline)) {
    throw VmRequestError(fmt::format("kernel_cmdline: must be at most {} printable characters", kMaxKernelCmdline));
  }
  request.cmdline = std::string(cmdline);
  if (options.getHasRngSeed()) request.rng_seed = options.getRngSeed();
  if (options.getHasInitialTime()) {
    const std::int64_t ns = options.getInitialTimeNs();
    if (ns < 0 || ns > kMaxInitialTimeNs) throw VmRequestError("initial_time: must be between 1970 and 2100");
    request.initial_time_ns = ns;
  }
  const auto files = options.getFiles();
  if (files.size() > kMaxGuestFiles) {
    throw VmRequestError(fmt::format("files: {} files; the limit is {}", files.size(), kMaxGuestFiles));
  }
  for (const auto file : files) {
    const auto path_text = file.getPath();
    const std::string path(path_text.begin(), path_text.size());
    check_guest_path(path);
    const auto content = file.getContent();
    if (content.size() > kMaxGuestFileBytes) {
      throw VmRequestError(fmt::format("files: `{}` is {} bytes; the limit is {}", path, content.size(), kMaxGuestFileBytes));
    }
    request.files.push_back({path, std::string(content.asChars().begin(), content.size())});
  }
  check_files_total(request.files);
  return request;
}

VmRequest merge_vm_requests(const VmRequest& created, const VmRequest& boot) {
  VmRequest merged = created;
  if (boot.memory_bytes != 0) merged.memory_bytes = boot.memory_bytes;
  if (boot.cpus != 0) merged.cpus = boot.cpus;
  if (!boot.cmdline.empty()) merged.cmdline = boot.cmdline;
  if (boot.rng_seed) merged.rng_seed = boot.rng_seed;
  if (boot.initial_time_ns) merged.initial_time_ns = boot.initial_time_ns;
  merged.files.insert(merged.files.end(), boot.files.begin(), boot.files.end());
  check_files_total(merged.files);
  return merged;
}

}  // namespace provium
