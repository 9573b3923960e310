#include "path_mutation.h"

#include "path_errors.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace provium::agent {
namespace {

constexpr mode_t kParentMode = 0755;

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

void create_missing_parents(const std::string& path) {
  // Each prefix ending before a '/', skipping the root and repeated slashes.
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (path[slash - 1] == '/') continue;
    const std::string parent = path.substr(0, slash);
    if (::mkdir(parent.c_str(), kParentMode) != 0 && errno != EEXIST) throw_path_error("mkdir", parent, errno);
  }
}

}  // namespace

void make_directory(const std::string& requested, bool parents, mode_t perm) {
  if (requested.empty()) throw_path_error("mkdir", requested, ENOENT);
  // "a/b/" names "a/b": without this, "a/b" would count as a parent.
  std::string path = requested;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (parents) create_missing_parents(path);
  if (::mkdir(path.c_str(), perm) != 0) {
    const int error_number = errno;
    if (parents && error_number == EEXIST && is_directory(path)) return;
    throw_path_error("mkdir", path, error_number);
  }
  if (::chmod(path.c_str(), perm) != 0) throw_path_error("mkdir", path, errno);
}

void remove_entry(const std::string& path) {
  if (::unlink(path.c_str()) == 0) return;
  const int error_number = errno;
  // Linux says EISDIR for a directory (POSIX allows EPERM too).
  if (error_number == EISDIR || (error_number == EPERM && is_directory(path))) {
    if (::rmdir(path.c_str()) == 0) return;
    throw_path_error("unlink", path, errno);
  }
  throw_path_error("unlink", path, error_number);
}

void rename_entry(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    throw std::system_error(errno, std::generic_category(), "rename `" + from + "` to `" + to + "`");
  }
}

}  // namespace provium::agent
