// Writing text to stdout/stderr with write(2) directly. stdio would fstat()
// the fd on first use, which the runner's seccomp filter does not allow.
#pragma once

#include <string_view>

namespace provium::runner {

// Writes all of `text`, retrying on EINTR and short writes; gives up
// silently if the fd is gone (there is nowhere left to report that).
void write_all_to_fd(int fd, std::string_view text);

// "provium-runner: <text>\n" on stderr.
void log_to_stderr(std::string_view text);

}  // namespace provium::runner
