// How the agent reports a failed operation on a path: a std::system_error whose
// code is the errno and whose what() reads like
// "stat `/path`: No such file or directory", which the session sends on as the
// error response.
#pragma once

#include <string>
#include <system_error>

namespace provium::agent {

[[noreturn]] inline void throw_path_error(const char* action, const std::string& path, int error_number) {
  throw std::system_error(error_number, std::generic_category(), std::string(action) + " `" + path + "`");
}

}  // namespace provium::agent
