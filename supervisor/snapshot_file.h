// The on-disk form of one VM snapshot: a single file that QEMU can map as
// the restored guest's RAM (copy-on-write) and replay as its device state.
//
//   [0, ram_bytes)                  the guest's RAM, sparse
//   [ram_bytes, +state_bytes)       QEMU's migration stream (device state only:
//                                   RAM is skipped with x-ignore-shared)
//   JSON metadata                   SnapshotInfo below
//   footer: "PRVSNAP1", u64 LE      the metadata's length
//
// The metadata carries a SHA-256 of the device state and of itself, so a
// damaged file is refused with a clear error before QEMU ever sees it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace provium {

inline constexpr std::uint32_t kSnapshotFormat = 1;

struct SnapshotInfo {
  std::string vm;
  std::string profile;
  std::uint64_t ram_bytes = 0;
  std::uint32_t cpus = 1;
  std::uint32_t nic_slots = 0;
  // The VM's number in the file it was taken in: its NICs' MAC addresses
  // follow from it (TestNetwork::mac_of), and the restored guest keeps them
  // until told its new ones. 0: unknown.
  std::uint32_t nic_vm_index = 0;
  std::string accel;             // "tcg" / "kvm": device state of one does not load into the other
  std::uint64_t state_bytes = 0;
  std::string state_sha256;
  std::int64_t taken_at_ns = 0;  // host wall clock
};

class SnapshotFileError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Appends the metadata and footer after a device state that ends at the
// file's end; fills in state_bytes and state_sha256. Throws SnapshotFileError.
void finish_snapshot_file(int fd, SnapshotInfo& info);

// Reads and checks the metadata, the footer and the device state's hash.
// `shown` names the file in errors. Throws SnapshotFileError saying what is
// wrong ("not a Provium snapshot", "truncated", "device state damaged").
SnapshotInfo read_snapshot_file(int fd, const std::string& shown);

}  // namespace provium
