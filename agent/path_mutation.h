// mkdir, unlink and rename on behalf of the host. Failures throw
// std::system_error naming the path (see path_errors.h).
#pragma once

#include <sys/types.h>

#include <string>

namespace provium::agent {

// Parents created on the way get 0755 (as `mkdir -p` with the usual umask);
// with `parents` an existing directory is not an error. `perm` is applied
// exactly to the directory asked for (the umask does not apply).
void make_directory(const std::string& path, bool parents, mode_t perm);

// A file, symlink or other non-directory, or an empty directory.
void remove_entry(const std::string& path);

// rename(2): atomic within one filesystem, replaces `to` if it exists.
void rename_entry(const std::string& from, const std::string& to);

}  // namespace provium::agent
