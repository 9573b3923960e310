#include "capabilities.h"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace provium::runner::sandbox {
namespace {

struct CapDeleter {
  void operator()(void* caps) const { cap_free(caps); }
};
using CapState = std::unique_ptr<std::remove_pointer_t<cap_t>, CapDeleter>;

std::string errno_text() { return std::strerror(errno); }

// The bounding set must go first: dropping from it needs CAP_SETPCAP, which
// the last step removes.
void drop_bounding_set() {
  // Walk until the kernel says the number is not a capability, so caps newer
  // than our headers are dropped too.
  for (int cap = 0;; ++cap) {
    const int present = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (present < 0) {
      if (errno == EINVAL) return;
      throw std::runtime_error("PR_CAPBSET_READ(" + std::to_string(cap) + "): " + errno_text());
    }
    if (present == 0) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      char* name = cap_to_name(cap);
      const std::string label = name ? name : std::to_string(cap);
      cap_free(name);
      throw std::runtime_error("cannot drop " + label + " from the bounding set: " + errno_text() +
                               " (start the runner with CAP_SETPCAP or an empty bounding set)");
    }
  }
}

void clear_ambient_set() {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    throw std::runtime_error(std::string("PR_CAP_AMBIENT_CLEAR_ALL: ") + errno_text());
  }
}

void clear_process_sets() {
  CapState empty(cap_init());
  if (!empty) throw std::runtime_error("cap_init: " + errno_text());
  if (cap_set_proc(empty.get()) != 0) throw std::runtime_error("cap_set_proc(empty): " + errno_text());
}

void verify_nothing_left() {
  CapState now(cap_get_proc());
  CapState empty(cap_init());
  if (!now || !empty) throw std::runtime_error("cap_get_proc: " + errno_text());
  if (cap_compare(now.get(), empty.get()) != 0) {
    throw std::runtime_error("capabilities are still held after dropping them all");
  }
}

}  // namespace

void drop_all_capabilities() {
  drop_bounding_set();
  clear_ambient_set();
  clear_process_sets();
  verify_nothing_left();
}

}  // namespace provium::runner::sandbox
