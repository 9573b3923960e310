// `_provium_test_hooks`, installed only when the supervisor sets
// FileJob.testHooks (Provium's own tests). Each hook misbehaves on purpose so
// those tests can prove the supervisor survives a crashing or hostile runner:
// segfault(), abort(), exit(code), hang(), and the forbidden_* calls that the
// seccomp filter must answer by killing the process.
#pragma once

#include <lua.hpp>

namespace provium::runner {

void install_test_hooks(lua_State* L);

}  // namespace provium::runner
