// readFile / writeFile: whole-file reads and writes on behalf of the host.
// Failures throw std::system_error whose what() reads like
// "read `/path`: No such file or directory" and whose code is the errno.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace provium::agent {

// Reads until end of file (sizes of /proc and /sys files are not known in
// advance). Refuses files larger than `limit` with EFBIG. A FIFO or device with
// nothing to read yields what was available instead of blocking the agent.
std::vector<std::byte> read_whole_file(const std::string& path, std::size_t limit);

// Creates or truncates `path`. A file this call creates gets exactly `mode`
// (the umask does not apply); an existing file keeps its permissions.
void write_whole_file(const std::string& path, const void* data, std::size_t size, mode_t mode);

}  // namespace provium::agent
