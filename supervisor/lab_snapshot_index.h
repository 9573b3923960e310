// lab.json, the index of a lab snapshot directory (docs/snapshots.md): the
// lab's bridges, and per VM its profile, its snapshot file in the directory
// (none when it was not running), whether it was paused, and which NIC slot
// it had on which of the lab's bridges. The runner describes a lab; the
// supervisor writes the file from that description and reads it back, and
// checks every field both ways (names, a plain file name ending in .snap
// for each VM, slots in range, bridges the index lists).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace provium {

inline constexpr const char* kLabIndexName = "lab.json";

struct LabIndexNic {
  std::string bridge;
  std::uint32_t slot = 0;
};

struct LabIndexVm {
  std::string name;
  std::string profile;
  std::string file;  // empty: not running when the snapshot was taken
  bool paused = false;
  std::vector<LabIndexNic> nics;
};

struct LabIndex {
  std::vector<std::string> bridges;
  std::vector<LabIndexVm> vms;
};

class LabIndexError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws LabIndexError naming the field at fault.
void check_lab_index(const LabIndex& index);

// Writes `directory`/lab.json atomically (0600). Throws LabIndexError.
void write_lab_index(const std::filesystem::path& directory, const LabIndex& index);

// Reads and checks `directory`/lab.json. Throws LabIndexError.
LabIndex read_lab_index(const std::filesystem::path& directory);

// Reads the index and checks every snapshot file it names (present, regular,
// not damaged). Throws LabIndexError or SnapshotFileError.
LabIndex check_lab_snapshot(const std::filesystem::path& directory);

// The bytes of the directory's files, one level deep (LabSnapshot:size()).
std::uint64_t lab_snapshot_bytes(const std::filesystem::path& directory);

// Removes a lab snapshot directory and its files. Refuses (LabIndexError) a
// directory holding anything but lab.json, snapshot files and partial files
// of either: snapshot_dir may hold other things of the user's.
void remove_lab_snapshot(const std::filesystem::path& directory);

// Removes snapshot files the index does not name (left from an older
// snapshot into the same directory).
void remove_unlisted_snapshots(const std::filesystem::path& directory, const LabIndex& index);

}  // namespace provium
