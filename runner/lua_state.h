// An owned Lua state whose allocations are capped, so a test file that builds
// a huge table gets "not enough memory" instead of exhausting the runner.
#pragma once

#include <lua.hpp>

#include <cstddef>

namespace provium::runner {

inline constexpr std::size_t kDefaultLuaMemoryCap = std::size_t{1} << 30;  // 1 GiB

class LuaState {
 public:
  explicit LuaState(std::size_t memory_cap = kDefaultLuaMemoryCap);
  ~LuaState();
  LuaState(const LuaState&) = delete;
  LuaState& operator=(const LuaState&) = delete;

  lua_State* get() const { return state_; }
  std::size_t bytes_in_use() const { return budget_.used; }

 private:
  struct Budget {
    std::size_t cap;
    std::size_t used = 0;
  };
  static void* allocate(void* budget, void* block, std::size_t old_size, std::size_t new_size);

  Budget budget_;
  lua_State* state_ = nullptr;
};

}  // namespace provium::runner
