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
// Operations (named as in Request's union) and behaviours this agent
// implements, so a host can check before relying on one.
inline constexpr std::array<std::string_view, 40> kFeatures = {
    "ping", "run", "run.timeout", "run.stdin", "readFile", "writeFile", "powerOff",
    "stat", "listdir", "mkdir", "unlink", "rename",
    "openFile", "fileRead", "fileWrite", "fileSeek", "fileTell", "fileClose",
    "syscall", "ioctl",
    "spawn", "processWrite", "processCloseStdin", "processSignal", "processWait",
    "tailFile", "fdStream", "readFileStream", "streamCredit", "streamClose",
    "clockGet", "clockSet",
    "spawnWorker", "closeWorker", "configureNic", "setHosts", "addEntropy",
    "stream.credit",   // streams are flow-controlled by host-granted credit
    "tailFile.truncation",  // tails restart at 0 when the file shrinks
    "worker.credentials",   // workers run with the uid/gid/groups given
};

}  // namespace provium::agent
