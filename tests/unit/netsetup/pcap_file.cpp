#include "pcap_file.h"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace provium::netsetup::testing {
namespace {

// Little-endian fields: the writer uses the host's order and this is x86.
std::uint32_t u32(const std::vector<std::uint8_t>& data, std::size_t at) {
  if (at + 4 > data.size()) throw std::runtime_error("pcap: truncated");
  return data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (static_cast<std::uint32_t>(data[at + 3]) << 24);
}

std::uint16_t u16(const std::vector<std::uint8_t>& data, std::size_t at) {
  if (at + 2 > data.size()) throw std::runtime_error("pcap: truncated");
  return static_cast<std::uint16_t>(data[at] | (data[at + 1] << 8));
}

}  // namespace

PcapFile read_pcap(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("pcap: cannot open " + path.string());
  const std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PcapFile file{.magic = u32(data, 0),
                .version_major = u16(data, 4),
                .version_minor = u16(data, 6),
                .snap_length = u32(data, 16),
                .link_type = u32(data, 20)};
  std::size_t at = 24;
  while (at < data.size()) {
    PcapRecord record{.seconds = u32(data, at), .microseconds = u32(data, at + 4)};
    const std::uint32_t captured = u32(data, at + 8);
    record.original_length = u32(data, at + 12);
    at += 16;
    if (at + captured > data.size()) throw std::runtime_error("pcap: record runs past the end");
    record.bytes.assign(data.begin() + static_cast<std::ptrdiff_t>(at),
                        data.begin() + static_cast<std::ptrdiff_t>(at + captured));
    at += captured;
    file.records.push_back(std::move(record));
  }
  return file;
}

}  // namespace provium::netsetup::testing
