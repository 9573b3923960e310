// Choosing KVM or TCG. KVM is used only when it can really boot a stock guest:
// /dev/kvm opens read-write, KVM_GET_API_VERSION is 12, and the host is not a
// nested PVM hypervisor (/sys/module/kvm_pvm), whose KVM hangs stock kernels.
#pragma once

#include <string>

#include "accel_choice.h"

namespace provium {

struct HostAccelFacts {
  bool kvm_opens = false;
  std::string kvm_open_error;  // strerror text when it does not open
  int kvm_api_version = -1;
  bool nested_pvm = false;
};

HostAccelFacts probe_host_accel();

struct AccelDecision {
  bool usable = true;  // false: --accel kvm was asked for and cannot work
  Accel accel = Accel::tcg;
  std::string message;  // one line for stderr: which accelerator and why (or the error)
};

AccelDecision decide_accel(AccelChoice choice, const HostAccelFacts& facts);

}  // namespace provium
