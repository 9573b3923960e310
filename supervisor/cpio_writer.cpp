#include "cpio_writer.h"

#include <fmt/format.h>

namespace provium {
namespace {

void pad_to_4(std::string& out) { out.append((4 - out.size() % 4) % 4, '\0'); }

}  // namespace

void CpioWriter::add_entry(std::string_view name, unsigned mode, std::string_view content) {
  // newc: magic, then 13 eight-digit hex fields; names are stored without the leading '/'.
  archive_ += fmt::format("070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}",
                          next_inode_++, mode, 0, 0, 1, 0, content.size(), 0, 0, 0, 0, name.size() + 1, 0);
  archive_ += name;
  archive_ += '\0';
  pad_to_4(archive_);
  archive_ += content;
  pad_to_4(archive_);
}

void CpioWriter::add_parents(std::string_view path) {
  for (auto slash = path.find('/', 1); slash != std::string_view::npos; slash = path.find('/', slash + 1)) {
    const std::string_view directory = path.substr(1, slash - 1);
    if (directories_.insert(std::string(directory)).second) add_entry(directory, 0040755, {});
  }
}

void CpioWriter::add_file(std::string_view path, std::string_view content) {
  add_parents(path);
  add_entry(path.substr(1), 0100644, content);
}

std::string CpioWriter::finish() {
  add_entry("TRAILER!!!", 0, {});
  return std::move(archive_);
}

}  // namespace provium
