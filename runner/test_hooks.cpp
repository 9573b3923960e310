#include "test_hooks.h"

#include "lua_guard.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace provium::runner {
namespace {

// A real invalid write; exempt from the sanitizers so ASan/UBSan builds
// crash the same way instead of reporting it.
__attribute__((no_sanitize("address", "undefined"))) int hook_segfault(lua_State*) {
  volatile int* nowhere = nullptr;
  *nowhere = 1;
  return 0;
}

int hook_abort(lua_State*) { std::abort(); }

int hook_exit(lua_State* L) {
  // _exit: no atexit handlers, no goodbye to the supervisor.
  _exit(static_cast<int>(luaL_optinteger(L, 1, 1)));
}

// A busy loop in C: no Lua instructions run, so the count hook that enforces
// the test deadline never fires; only the supervisor can end it.
int hook_hang(lua_State*) {
  volatile unsigned long spins = 0;
  for (;;) spins = spins + 1;
}

// The forbidden hooks make the raw syscall. Returning at all means the
// sandbox let it through, which the caller must treat as a failure.
int report_not_blocked(lua_State* L, const char* call, long result) {
  return luaL_error(L, "%s was not blocked by the sandbox (returned %d, %s)", call, static_cast<int>(result),
                    result < 0 ? std::strerror(errno) : "success");
}

int hook_forbidden_exec(lua_State* L) {
  const char* argv[] = {"/bin/true", nullptr};
  const char* envp[] = {nullptr};
  const long result = syscall(SYS_execve, "/bin/true", argv, envp);
  return report_not_blocked(L, "execve", result);
}

int hook_forbidden_open(lua_State* L) {
  const char* path = luaL_optstring(L, 1, "/etc/passwd");
  const long result = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (result >= 0) close(static_cast<int>(result));
  return report_not_blocked(L, "openat", result);
}

int hook_forbidden_socket(lua_State* L) {
  const long result = syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
  if (result >= 0) close(static_cast<int>(result));
  return report_not_blocked(L, "socket", result);
}

constexpr luaL_Reg kHooks[] = {
    {"segfault", hook_segfault},
    {"abort", hook_abort},
    {"exit", hook_exit},
    {"hang", hook_hang},
    {"forbidden_exec", hook_forbidden_exec},
    {"forbidden_open", hook_forbidden_open},
    {"forbidden_socket", hook_forbidden_socket},
    {nullptr, nullptr},
};

}  // namespace

void install_test_hooks(lua_State* L) {
  luaL_newlib(L, kHooks);
  lua_setglobal(L, "_provium_test_hooks");
}

}  // namespace provium::runner
