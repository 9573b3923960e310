// stat and listdir: what is at a path, without following a final symlink.
// Failures throw std::system_error naming the path (see path_errors.h).
#pragma once

#include "agent.capnp.h"

#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace provium::agent {

struct PathStat {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint32_t perm = 0;  // mode & 07777
  provium::wire::agent::EntryType entry_type = provium::wire::agent::EntryType::OTHER;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t nlink = 0;
  std::uint64_t inode = 0;
};

struct DirectoryEntry {
  std::string name;
  provium::wire::agent::EntryType entry_type = provium::wire::agent::EntryType::OTHER;
};

// A directory listing must fit one response; bigger ones are refused (E2BIG)
// rather than silently cut.
inline constexpr std::size_t kMaxDirectoryEntries = 65536;

provium::wire::agent::EntryType entry_type_of(mode_t mode);

PathStat stat_path(const std::string& path);

// Sorted by name (bytewise), without "." and "..".
std::vector<DirectoryEntry> list_directory(const std::string& path, std::size_t limit = kMaxDirectoryEntries);

}  // namespace provium::agent
