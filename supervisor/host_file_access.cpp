#include "host_file_access.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace provium {
namespace {

namespace fs = std::filesystem;

void check_text(const std::string& text, const char* what) {
  if (text.size() > kMaxHostPathBytes) {
    throw HostFileError(fmt::format("the {} is {} bytes; the limit is {}", what, text.size(), kMaxHostPathBytes));
  }
  if (text.find('\0') != std::string::npos) throw HostFileError(fmt::format("the {} contains a NUL byte", what));
}

// Control bytes (NUL would cut the message short) shown as '?'.
std::string printable(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return text;
}

bool inside(const fs::path& path, const fs::path& root) {
  const fs::path relative = path.lexically_relative(root);
  return !relative.empty() && *relative.begin() != ".." && relative != ".";
}

std::string root_list(const std::vector<fs::path>& roots) {
  std::string list;
  for (const auto& root : roots) list += (list.empty() ? "" : ", ") + root.string();
  return list;
}

// `relative` beneath `root`, which the kernel enforces whatever the path holds now.
kj::AutoCloseFd open_beneath(const fs::path& root, const fs::path& relative) {
  kj::AutoCloseFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) throw HostFileError(fmt::format("cannot open the root {}: {}", root.string(), std::strerror(errno)));
  open_how how{};
  // O_NONBLOCK: opening a FIFO must not hang the supervisor; it is refused below.
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const long fd = ::syscall(SYS_openat2, root_fd.get(), relative.c_str(), &how, sizeof how);
  if (fd < 0) {
    if (errno == EXDEV) throw HostFileError(fmt::format("it leads out of {} while being opened", root.string()));
    throw HostFileError(std::strerror(errno));
  }
  return kj::AutoCloseFd(static_cast<int>(fd));
}

}  // namespace

OpenedHostFile open_host_file(const std::string& host_path, const std::string& relative_to,
                              const HostFileRoots& roots) {
  const std::string named = fmt::format("host file `{}`", printable(host_path.substr(0, 200)));
  try {
    if (host_path.empty()) throw HostFileError("the host path is empty");
    check_text(host_path, "host path");
    check_text(relative_to, "calling file's path");
    if (roots.roots.empty()) throw HostFileError("no roots are configured");
    const fs::path base = relative_to.empty() ? roots.roots.front() : (roots.cwd / relative_to).parent_path();
    const fs::path requested(host_path);
    const fs::path candidate = (requested.is_absolute() ? requested : base / requested).lexically_normal();
    std::error_code error;
    const fs::path real = fs::canonical(candidate, error);
    if (error) throw HostFileError(fmt::format("{} ({})", error.message(), candidate.string()));
    std::vector<fs::path> real_roots;
    for (const auto& root : roots.roots) {
      const fs::path real_root = fs::canonical(root, error);
      if (error) continue;
      if (inside(real, real_root)) {
        OpenedHostFile opened{open_beneath(real_root, real.lexically_relative(real_root)), 0, real};
        struct stat info {};
        if (::fstat(opened.fd.get(), &info) != 0) throw HostFileError(std::strerror(errno));
        if (!S_ISREG(info.st_mode)) throw HostFileError(fmt::format("{} is not a regular file", real.string()));
        const int flags = ::fcntl(opened.fd.get(), F_GETFL);
        if (flags >= 0) ::fcntl(opened.fd.get(), F_SETFL, flags & ~O_NONBLOCK);
        opened.size = static_cast<std::uint64_t>(info.st_size);
        return opened;
      }
      real_roots.push_back(real_root);
    }
    throw HostFileError(fmt::format("it resolves to {}, outside the roots push_file may read ({})", real.string(),
                                    root_list(real_roots)));
  } catch (const HostFileError& refused) {
    throw HostFileError(fmt::format("{}: {}", named, refused.what()));
  }
}

}  // namespace provium
