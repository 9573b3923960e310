// What the agent tells the host about itself in helloOk.
#pragma once

#include <array>
#include <string_view>

#ifndef PROVIUM_AGENT_VERSION
#error "PROVIUM_AGENT_VERSION must be defined by the build (meson.project_version())"
#endif

namespace provium::agent {

inline constexpr std::string_view kAgentVersion = PROVIUM_AGENT_VERSION;
inline constexpr std::string_view kGuestOs = "linux";
// Operations and behaviours this agent implements; lets a host adapt without
// a protocol bump for purely additive agent-side capabilities.
inline constexpr std::array<std::string_view, 7> kFeatures = {
    "ping", "run", "run.timeout", "run.stdin", "readFile", "writeFile", "powerOff",
};

}  // namespace provium::agent
