// Opening what a tailFile or readFileStream request reads: the file,
// positioned where the stream starts. Failures throw std::system_error
// naming the path.
#pragma once

#include "agent.capnp.h"
#include "unique_fd.h"

#include <cstdint>
#include <string>

namespace provium::agent {

struct StreamSource {
  UniqueFd fd;                   // positioned at start_offset
  std::uint64_t start_offset = 0;
  std::uint64_t size = 0;        // a regular file's size when opened, else 0
};

// Starts at `origin` + `offset`, clamped to [0, size].
StreamSource open_tail_source(const std::string& path, provium::wire::agent::TailOrigin origin, std::int64_t offset);

// From the start; refuses directories.
StreamSource open_file_source(const std::string& path);

// Where an fdStream starts: `fd` (already open) and its current offset.
StreamSource describe_open_source(UniqueFd fd);

}  // namespace provium::agent
