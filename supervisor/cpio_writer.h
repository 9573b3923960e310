// A newc cpio archive built in memory: the `files` boot option is delivered by
// appending one to the initrd, so the files exist before init runs.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace provium {

class CpioWriter {
 public:
  // `path` is absolute ("/etc/hostname"); missing parent directories are added
  // as 0755 directories. Files are 0644 and owned by root.
  void add_file(std::string_view path, std::string_view content);
  // Appends the trailer and returns the archive.
  std::string finish();

 private:
  void add_entry(std::string_view name, unsigned mode, std::string_view content);
  void add_parents(std::string_view path);

  std::string archive_;
  std::set<std::string, std::less<>> directories_;
  unsigned next_inode_ = 1;
};

}  // namespace provium
