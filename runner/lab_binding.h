// The Lab userdata (docs/labs.md): the `provium` global, which stands for
// the running test's scope or else the file's root lab, and the sub-labs
// lab:lab() returns. lab:vm(name, profile[, opts]) declares, lab:vm(name)
// looks up (erroring when absent), lab.<name> looks up (nil when absent);
// provium.timeout and provium.reset_between_tests are file settings.
#pragma once

#include "lab.h"

#include <lua.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace provium::runner {

// Installs the global (under run_protected()). `lab` must outlive the state.
void install_provium_global(lua_State* L, Lab& lab);

// The lab installed in this state, for bindings whose objects a scope owns
// (processes, workers); null when there is none (unit tests of a binding).
Lab* installed_lab(lua_State* L);

// After `vm` booted or was restored: the bridges it is a member of wire it
// (Lab::rejoin_bridges); errors read "vm `a`: <verb>: ...".
void rejoin_bridges(lua_State* L, Vm& vm, const char* verb);

// Hands `resource` (anything with close()) to the current scope, which keeps
// it alive and closes it when it ends, `kind` deciding the order. Without a
// lab, nothing is done.
template <typename Resource>
void adopt_into_scope(lua_State* L, ResourceKind kind, std::shared_ptr<Resource> resource) {
  Lab* lab = installed_lab(L);
  if (lab == nullptr) return;
  lab->adopt(kind, [resource = std::move(resource)]() -> std::optional<std::string> {
    try {
      resource->close();
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
    return std::nullopt;
  });
}

// Like adopt_into_scope, without keeping `resource` alive: one that test code
// dropped and the collector finalized is not there to close (its destructor
// closed it). For files and streams, which may be opened by the thousand.
template <typename Resource>
void close_with_scope(lua_State* L, ResourceKind kind, const std::shared_ptr<Resource>& resource) {
  Lab* lab = installed_lab(L);
  if (lab == nullptr) return;
  lab->adopt(kind, [weak = std::weak_ptr<Resource>(resource)]() -> std::optional<std::string> {
    auto resource = weak.lock();
    if (!resource) return std::nullopt;
    try {
      resource->close();
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
    return std::nullopt;
  });
}

}  // namespace provium::runner
