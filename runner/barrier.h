// provium:barrier(name, count, timeout?): named rendezvous points for the
// coroutines of one test.
//
// The runner runs Lua on one thread and its blocking calls do not yield, so
// a caller that has to wait can only be a coroutine: it yields back to
// whoever resumed it. The caller that completes the count resumes every
// waiter (in arrival order), each until it ends or waits again, and then
// returns itself. A waiter whose timeout passed is resumed with an error the
// next time someone arrives; one still waiting when its test ends fails the
// test (abandon()).
#pragma once

#include "deadline.h"

#include <duration.h>

#include <lua.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace provium::runner {

class BarrierSet {
 public:
  BarrierSet() = default;
  BarrierSet(const BarrierSet&) = delete;
  BarrierSet& operator=(const BarrierSet&) = delete;

  // The body of the Lua method, called as its return expression: returns
  // the result count, or yields. `what` prefixes errors
  // ("provium:barrier(`ready`, 2)"), `site` is the caller's file:line.
  int arrive(lua_State* L, const std::string& name, int count, Millis timeout, const std::string& what,
             const std::string& site);

  // Forgets every waiter; returns one line per barrier that had some.
  std::vector<std::string> abandon(lua_State* L);

 private:
  struct Waiter {
    int thread_ref;
    std::string site;
    Deadline deadline;
  };
  struct Barrier {
    int count = 0;
    Millis timeout{0};
    std::vector<Waiter> waiters;
  };
  // Resumes `waiter`: released, or with `failure` raised where it waits.
  // Returns the error the waiter's coroutine ended with, if any.
  static std::optional<std::string> resume(lua_State* L, const Waiter& waiter,
                                           const std::optional<std::string>& failure);

  std::map<std::string, Barrier> barriers_;
};

}  // namespace provium::runner
