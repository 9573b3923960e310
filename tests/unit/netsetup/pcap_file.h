// A minimal reader of classic pcap files, for checking what the capture
// wrote, independent of the writer's code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace provium::netsetup::testing {

struct PcapRecord {
  std::uint32_t seconds = 0;
  std::uint32_t microseconds = 0;
  std::uint32_t original_length = 0;
  std::vector<std::uint8_t> bytes;
};

struct PcapFile {
  std::uint32_t magic = 0;
  std::uint16_t version_major = 0;
  std::uint16_t version_minor = 0;
  std::uint32_t snap_length = 0;
  std::uint32_t link_type = 0;
  std::vector<PcapRecord> records;
};

// Throws std::runtime_error when the file is short or malformed.
PcapFile read_pcap(const std::filesystem::path& path);

}  // namespace provium::netsetup::testing
