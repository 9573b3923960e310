#include "lua_state.h"

#include <cstdlib>
#include <new>

namespace provium::runner {

LuaState::LuaState(std::size_t memory_cap) : budget_{memory_cap} {
  state_ = lua_newstate(&LuaState::allocate, &budget_);
  if (state_ == nullptr) throw std::bad_alloc();
}

LuaState::~LuaState() { lua_close(state_); }

void* LuaState::allocate(void* opaque, void* block, std::size_t old_size, std::size_t new_size) {
  auto* budget = static_cast<Budget*>(opaque);
  // For a fresh allocation Lua passes a type tag in old_size, not a size.
  const std::size_t previous = block != nullptr ? old_size : 0;
  if (new_size == 0) {
    std::free(block);
    budget->used -= previous;
    return nullptr;
  }
  if (new_size > previous && new_size - previous > budget->cap - budget->used) {
    return nullptr;  // Lua raises "not enough memory"
  }
  void* grown = std::realloc(block, new_size);
  if (grown == nullptr) return nullptr;
  budget->used = budget->used - previous + new_size;
  return grown;
}

}  // namespace provium::runner
