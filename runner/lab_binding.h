// The `provium` global: the root lab. provium:vm(name, profile[, opts])
// declares, provium:vm(name) looks up (erroring when absent), provium.<name>
// looks up (nil when absent); provium.pack/unpack are string.pack/unpack;
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

// Hands `resource` (anything with close()) to the current scope, which keeps
// it alive and closes it when it ends. Without a lab, nothing is done.
template <typename Resource>
void adopt_into_scope(lua_State* L, std::shared_ptr<Resource> resource) {
  Lab* lab = installed_lab(L);
  if (lab == nullptr) return;
  lab->adopt([resource = std::move(resource)]() -> std::optional<std::string> {
    try {
      resource->close();
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
    return std::nullopt;
  });
}

}  // namespace provium::runner
