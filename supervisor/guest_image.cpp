#include "guest_image.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "cpio_writer.h"
#include "initrd_join.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) fail("memfd write");
    data.remove_prefix(static_cast<std::size_t>(written));
  }
}

// A read-only (sealed) in-memory copy of `source` followed by `extra`.
kj::AutoCloseFd sealed_copy(const fs::path& source, std::string_view extra) {
  kj::AutoCloseFd fd(::memfd_create(source.filename().c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd.get() < 0) fail("memfd_create");
  const std::size_t size = stream_file(source, [&](std::string_view chunk) { write_all(fd.get(), chunk); });
  if (!extra.empty()) {
    write_all(fd.get(), std::string_view("\0\0\0", initrd_padding(size)));
    write_all(fd.get(), extra);
  }
  if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) fail("memfd seal");
  return fd;
}

kj::AutoCloseFd open_for_qemu(const fs::path& path, bool unprivileged_reader) {
  kj::AutoCloseFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail(path.string());
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) fail(path.string());
  if (!S_ISREG(info.st_mode)) throw std::runtime_error(fmt::format("{}: not a regular file", path.string()));
  if (unprivileged_reader && (info.st_mode & S_IROTH) == 0) return sealed_copy(path, {});
  return fd;
}

}  // namespace

GuestImage open_guest_image(const fs::path& kernel, const fs::path& initrd, const std::vector<GuestFile>& files,
                            bool unprivileged_reader) {
  GuestImage image;
  image.kernel = open_for_qemu(kernel, unprivileged_reader);
  if (files.empty()) {
    image.initrd = open_for_qemu(initrd, unprivileged_reader);
    return image;
  }
  CpioWriter archive;
  for (const auto& file : files) archive.add_file(file.path, file.content);
  image.initrd = sealed_copy(initrd, archive.finish());
  return image;
}

}  // namespace provium
