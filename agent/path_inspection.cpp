#include "path_inspection.h"

#include "path_errors.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace provium::agent {
namespace wire = provium::wire::agent;

namespace {

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

wire::EntryType entry_type_of_dirent(int dir_fd, const dirent& entry) {
  switch (entry.d_type) {
    case DT_REG: return wire::EntryType::FILE;
    case DT_DIR: return wire::EntryType::DIRECTORY;
    case DT_LNK: return wire::EntryType::SYMLINK;
    case DT_FIFO: return wire::EntryType::FIFO;
    case DT_SOCK: return wire::EntryType::SOCKET;
    case DT_BLK: return wire::EntryType::BLOCK_DEVICE;
    case DT_CHR: return wire::EntryType::CHAR_DEVICE;
    default: break;
  }
  // Some filesystems leave d_type unknown; ask the inode.
  struct stat info {};
  if (::fstatat(dir_fd, entry.d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) return wire::EntryType::OTHER;
  return entry_type_of(info.st_mode);
}

}  // namespace

wire::EntryType entry_type_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return wire::EntryType::FILE;
    case S_IFDIR: return wire::EntryType::DIRECTORY;
    case S_IFLNK: return wire::EntryType::SYMLINK;
    case S_IFIFO: return wire::EntryType::FIFO;
    case S_IFSOCK: return wire::EntryType::SOCKET;
    case S_IFBLK: return wire::EntryType::BLOCK_DEVICE;
    case S_IFCHR: return wire::EntryType::CHAR_DEVICE;
    default: return wire::EntryType::OTHER;
  }
}

PathStat stat_path(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) throw_path_error("stat", path, errno);
  PathStat result;
  result.size = static_cast<std::uint64_t>(info.st_size);
  result.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
  result.perm = info.st_mode & 07777;
  result.entry_type = entry_type_of(info.st_mode);
  result.uid = info.st_uid;
  result.gid = info.st_gid;
  result.nlink = info.st_nlink;
  result.inode = info.st_ino;
  return result;
}

std::vector<DirectoryEntry> list_directory(const std::string& path, std::size_t limit) {
  // O_NOFOLLOW is not wanted here: listing through a symlinked directory is
  // what `ls path` does too.
  std::unique_ptr<DIR, DirCloser> dir(::opendir(path.c_str()));
  if (!dir) throw_path_error("listdir", path, errno);
  std::vector<DirectoryEntry> entries;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) {
      if (errno != 0) throw_path_error("listdir", path, errno);
      break;
    }
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (entries.size() == limit) {
      throw std::system_error(E2BIG, std::generic_category(),
                              "listdir `" + path + "`: more than " + std::to_string(limit) +
                                  " entries; list it with a command instead");
    }
    entries.push_back(DirectoryEntry{std::string(name), entry_type_of_dirent(::dirfd(dir.get()), *entry)});
  }
  std::sort(entries.begin(), entries.end(),
            [](const DirectoryEntry& a, const DirectoryEntry& b) { return a.name < b.name; });
  return entries;
}

}  // namespace provium::agent
