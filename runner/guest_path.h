// What the agent's path ops report about guest files (ipc/agent.capnp
// StatResult, DirEntry), in host terms.
#pragma once

#include <cstdint>
#include <string>

namespace provium::runner {

// Names as test code sees them: "file", "directory", "symlink", "fifo",
// "socket", "block_device", "char_device", "other".
struct GuestStat {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint32_t perm = 0;
  std::string entry_type;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t nlink = 0;
  std::uint64_t inode = 0;
};

struct GuestDirEntry {
  std::string name;
  std::string entry_type;
};

}  // namespace provium::runner
