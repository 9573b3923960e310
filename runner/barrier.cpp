#include "barrier.h"

#include "lua_guard.h"

#include <stdexcept>

namespace provium::runner {
namespace {

// Resume arguments a waiting barrier call recognizes: anything else means
// test code resumed the coroutine itself while it waited.
int released_marker;
int failed_marker;

int barrier_resumed(lua_State* L, int status, lua_KContext context) {
  (void)status, (void)context;
  // The call's own arguments are still below what resume passed.
  if (lua_gettop(L) >= 1 && lua_touserdata(L, -1) == &released_marker) return 0;
  if (lua_gettop(L) >= 2 && lua_touserdata(L, -2) == &failed_marker) return lua_error(L);
  return luaL_error(L, "provium:barrier: this coroutine was resumed while it waited at a barrier");
}

std::string describe_arrivals(const std::string& name, int count, std::size_t arrived, const std::string& first_site) {
  return "barrier `" + name + "`: " + std::to_string(arrived) + " of " + std::to_string(count) +
         " callers arrived (the first at " + first_site + ")";
}

}  // namespace

std::optional<std::string> BarrierSet::resume(lua_State* L, const Waiter& waiter,
                                              const std::optional<std::string>& failure) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, waiter.thread_ref);
  lua_State* co = lua_tothread(L, -1);
  lua_pop(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, waiter.thread_ref);
  if (co == nullptr || lua_status(co) != LUA_YIELD) return std::nullopt;
  int args = 1;
  if (failure) {
    lua_pushlightuserdata(co, &failed_marker);
    lua_pushstring(co, failure->c_str());
    args = 2;
  } else {
    lua_pushlightuserdata(co, &released_marker);
  }
  int results = 0;
  const int status = lua_resume(co, L, args, &results);
  if (status == LUA_OK || status == LUA_YIELD) {
    lua_pop(co, results);
    return std::nullopt;
  }
  std::string error = describe_error_value(co, -1);
  lua_resetthread(co);
  return error;
}

int BarrierSet::arrive(lua_State* L, const std::string& name, int count, Millis timeout, const std::string& what,
                       const std::string& site) {
  auto found = barriers_.find(name);
  if (found != barriers_.end() && found->second.count != count) {
    throw std::invalid_argument(what + ": barrier `" + name + "` is already waited on with count " +
                                std::to_string(found->second.count));
  }
  Barrier& barrier = barriers_[name];
  barrier.count = count;
  barrier.timeout = timeout;

  // Waiters whose time ran out fail now, and so does this arrival.
  std::optional<std::string> late;
  for (const auto& waiter : barrier.waiters) {
    if (waiter.deadline.expired() && !late) {
      late = describe_arrivals(name, count, barrier.waiters.size(), barrier.waiters.front().site) +
             "; timed out after " + format_duration(barrier.timeout) + " waiting for the rest";
    }
  }
  if (late) {
    auto waiters = std::move(barrier.waiters);
    barriers_.erase(name);
    for (const auto& waiter : waiters) resume(L, waiter, late);
    throw std::runtime_error(what + ": " + *late);
  }

  if (static_cast<int>(barrier.waiters.size()) + 1 >= count) {
    auto waiters = std::move(barrier.waiters);
    barriers_.erase(name);  // the next round starts afresh
    std::optional<std::string> failed;
    for (const auto& waiter : waiters) {
      auto error = resume(L, waiter, std::nullopt);
      if (error && !failed) failed = error;
    }
    if (failed) {
      throw std::runtime_error(what + ": a coroutine released by barrier `" + name + "` failed: " + *failed);
    }
    return 0;
  }

  if (!lua_isyieldable(L)) {
    const std::size_t arrived = barrier.waiters.size() + 1;
    const std::string first = barrier.waiters.empty() ? site : barrier.waiters.front().site;
    if (barrier.waiters.empty()) barriers_.erase(name);
    throw std::runtime_error(what + ": " + describe_arrivals(name, count, arrived, first) +
                             ", and this caller is not a coroutine, so no other caller can run while it waits; " +
                             "call provium:barrier from coroutines (coroutine.wrap)");
  }
  lua_pushthread(L);
  const int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  barrier.waiters.push_back(Waiter{ref, site, Deadline::after(timeout)});
  return lua_yieldk(L, 0, 0, barrier_resumed);
}

std::vector<std::string> BarrierSet::abandon(lua_State* L) {
  std::vector<std::string> lines;
  for (auto& [name, barrier] : barriers_) {
    if (barrier.waiters.empty()) continue;
    lines.push_back(describe_arrivals(name, barrier.count, barrier.waiters.size(), barrier.waiters.front().site) +
                    " and were still waiting when the test ended");
    for (const auto& waiter : barrier.waiters) luaL_unref(L, LUA_REGISTRYINDEX, waiter.thread_ref);
  }
  barriers_.clear();
  return lines;
}

}  // namespace provium::runner
