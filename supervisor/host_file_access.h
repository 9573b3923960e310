// `vm:push_file` reads a host file on the runner's behalf (the runner cannot
// open host files). The request is hostile: the file's real path (symlinks
// resolved) must lie under one of the file's roots, and the open itself is
// confined beneath that root by the kernel (openat2 RESOLVE_BENEATH), so a
// symlink swapped in between the check and the open cannot lead out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <kj/io.h>

namespace provium {

inline constexpr std::size_t kMaxHostPathBytes = 4096;

// Where push_file may read from, and how relative paths are anchored.
struct HostFileRoots {
  std::vector<std::filesystem::path> roots;  // absolute; the test file's directory first
  std::filesystem::path cwd;                 // display paths are relative to it
};

struct OpenedHostFile {
  kj::AutoCloseFd fd;  // read-only, at offset 0
  std::uint64_t size = 0;
  std::filesystem::path resolved;
};

class HostFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Opens `host_path`: absolute, or relative to the directory of `relative_to`
// (a display path such as tests/lua/x.test.lua; empty: the first root).
// Throws HostFileError naming the path and why it was refused.
OpenedHostFile open_host_file(const std::string& host_path, const std::string& relative_to,
                              const HostFileRoots& roots);

}  // namespace provium
