#include "init_chain.h"

#include "log.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace provium::agent {
namespace {

bool same_file(const char* a, const char* b) {
  struct stat first {};
  struct stat second {};
  if (::stat(a, &first) != 0 || ::stat(b, &second) != 0) return false;
  return first.st_dev == second.st_dev && first.st_ino == second.st_ino;
}

bool user_init_present() {
  // The bundled guest's /init is the agent itself: nothing to chain to.
  return ::access(kUserInit, X_OK) == 0 && !same_file(kUserInit, "/proc/self/exe");
}

// PID 1 must never exit (the kernel panics). If /init could not be exec'd,
// keep reaping so the agent child and its commands still work.
[[noreturn]] void reap_forever() {
  for (;;) {
    if (::wait(nullptr) < 0 && errno == ECHILD) ::pause();
  }
}

}  // namespace

InitRole chain_to_user_init(int argc, char** argv) {
  if (!user_init_present()) return InitRole::kSoleInit;
  const pid_t child = ::fork();
  if (child < 0) {
    log_errno("fork to run " + std::string(kUserInit) + " beside the agent", errno);
    return InitRole::kSoleInit;
  }
  if (child == 0) return InitRole::kAgentChild;

  std::vector<char*> init_argv;
  init_argv.push_back(const_cast<char*>(kUserInit));
  for (int i = 1; i < argc; ++i) init_argv.push_back(argv[i]);
  init_argv.push_back(nullptr);
  ::execv(kUserInit, init_argv.data());
  log_errno(std::string("exec ") + kUserInit, errno);
  reap_forever();
}

}  // namespace provium::agent
