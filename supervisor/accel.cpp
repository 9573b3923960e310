#include "accel.h"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <filesystem>

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <fmt/format.h>
#include <kj/io.h>

namespace provium {
namespace {

constexpr int kKvmApiVersion = 12;

// Empty when KVM can boot a stock guest, else the reason it cannot.
std::string kvm_problem(const HostAccelFacts& facts) {
  if (!facts.kvm_opens) return fmt::format("/dev/kvm cannot be opened read-write: {}", facts.kvm_open_error);
  if (facts.kvm_api_version != kKvmApiVersion) {
    return fmt::format("KVM_GET_API_VERSION returned {}, expected {}", facts.kvm_api_version, kKvmApiVersion);
  }
  if (facts.nested_pvm) return "/dev/kvm belongs to a nested PVM hypervisor that cannot boot a stock guest kernel";
  return {};
}

}  // namespace

HostAccelFacts probe_host_accel() {
  HostAccelFacts facts;
  kj::AutoCloseFd kvm(::open("/dev/kvm", O_RDWR | O_CLOEXEC));
  facts.kvm_opens = kvm.get() >= 0;
  if (facts.kvm_opens) {
    facts.kvm_api_version = ::ioctl(kvm.get(), KVM_GET_API_VERSION, 0);
  } else {
    facts.kvm_open_error = std::strerror(errno);
  }
  std::error_code ignored;
  facts.nested_pvm = std::filesystem::exists("/sys/module/kvm_pvm", ignored);
  return facts;
}

AccelDecision decide_accel(AccelChoice choice, const HostAccelFacts& facts) {
  if (choice == AccelChoice::tcg) {
    return {true, Accel::tcg, "provium: using TCG (software emulation): requested with --accel tcg"};
  }
  const std::string problem = kvm_problem(facts);
  if (problem.empty()) return {true, Accel::kvm, "provium: using KVM"};
  if (choice == AccelChoice::kvm) return {false, Accel::kvm, fmt::format("provium: --accel kvm: {}", problem)};
  return {true, Accel::tcg, fmt::format("provium: using TCG (software emulation): {}", problem)};
}

}  // namespace provium
