#include "kernel_modules.h"

#include "log.h"
#include "unique_fd.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace provium::agent {

void load_bundled_modules(const std::string& dir) {
  std::ifstream order(dir + "/order");
  if (!order) return;
  std::string name;
  while (std::getline(order, name)) {
    if (name.empty() || name.front() == '#') continue;
    const std::string path = dir + "/" + name;
    UniqueFd module(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!module.valid()) {
      log_errno("open module " + path, errno);
      continue;
    }
    // glibc has no wrapper for finit_module.
    if (::syscall(SYS_finit_module, module.get(), "", 0) != 0 && errno != EEXIST) {
      log_errno("load module " + path, errno);
    }
  }
}

}  // namespace provium::agent
