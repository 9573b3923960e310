// Finding the host channel in a guest: the virtio-serial port the host named
// (QEMU: -device virtserialport,name=agent). Its device node appears a little
// after virtio_console loads, once the host has announced the port.
#pragma once

#include "unique_fd.h"

#include <chrono>
#include <string>

namespace provium::agent {

inline constexpr const char* kDefaultPortName = "agent";
inline constexpr std::chrono::milliseconds kPortWaitLimit{10000};

// The /dev path of the port called `name`, or "" if there is none (yet).
std::string find_virtio_port(const std::string& name);

// Waits up to `limit` for the port and opens it read-write, non-blocking.
// Returns an invalid fd (after logging why) if it never shows up.
UniqueFd open_virtio_port(const std::string& name, std::chrono::milliseconds limit = kPortWaitLimit);

}  // namespace provium::agent
