// Where a test file's snapshots may be written and read: inside the
// configured snapshot_dir and nowhere else (the supervisor may be root; a
// test must not make it write or map an arbitrary file). A relative path is
// taken inside snapshot_dir; an absolute one must lie inside it; `..` may not
// leave it and no symbolic link is followed on the way. Snapshots taken
// without a path go to a scratch directory of this file's, removed with it.
// A lab snapshot is a directory there; a lab fixture's cache entry may be
// read (restored from), never written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <owned_fd.h>

namespace provium {

class SnapshotPathError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A new snapshot being written under a temporary name next to its final
// path; commit() renames it into place, otherwise it is removed.
class PendingSnapshot {
 public:
  PendingSnapshot(OwnedFd fd, std::filesystem::path temporary, std::filesystem::path final_path)
      : fd_(std::move(fd)), temporary_(std::move(temporary)), final_(std::move(final_path)) {}
  PendingSnapshot(PendingSnapshot&&) = default;
  ~PendingSnapshot();

  int fd() const { return fd_.get(); }
  const std::filesystem::path& path() const { return final_; }
  // Throws SnapshotPathError when the rename fails.
  void commit();

 private:
  OwnedFd fd_;
  std::filesystem::path temporary_;
  std::filesystem::path final_;
  bool committed_ = false;
};

class SnapshotPlaces {
 public:
  // Removes scratch directories (and partial snapshot files) of provium
  // processes that are gone, e.g. killed with SIGKILL. Never throws.
  static void remove_abandoned(const std::filesystem::path& root);

  // `root` is created (0700) on first use. `scratch_label` names this file's
  // scratch directory (e.g. the test file's stem).
  SnapshotPlaces(std::filesystem::path root, std::string scratch_label);
  SnapshotPlaces(const SnapshotPlaces&) = delete;
  SnapshotPlaces& operator=(const SnapshotPlaces&) = delete;
  ~SnapshotPlaces();  // removes the scratch directory and what is in it

  // Opens a new snapshot for writing at `requested` (empty: a fresh name in
  // the scratch directory, from `vm`). Throws SnapshotPathError naming the path.
  PendingSnapshot create(const std::string& requested, const std::string& vm);
  // Opens an existing snapshot for reading. Throws SnapshotPathError.
  OwnedFd open_existing(const std::string& requested, std::filesystem::path* resolved = nullptr);
  // The checked path of `requested`, for size and delete.
  std::filesystem::path resolve(const std::string& requested);

  // Lab snapshots are directories. Makes one at `requested` (an existing
  // directory is reused; empty: a new one in the scratch directory).
  std::filesystem::path create_directory(const std::string& requested);
  // An existing lab snapshot directory, for reading (lab:restore): inside
  // snapshot_dir or a directory allowed for reading.
  std::filesystem::path existing_directory(const std::string& requested);
  // Lets this file restore from `directory` (a lab fixture's cache entry)
  // without being able to write or remove anything there.
  void allow_reading(const std::filesystem::path& directory);
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path ensure_root();
  std::filesystem::path ensure_scratch();
  // resolve(), also accepting paths inside the read-only directories.
  std::filesystem::path resolve_for_reading(const std::string& requested);
  std::vector<std::filesystem::path> readable_;

  std::filesystem::path root_;
  std::string scratch_label_;
  std::filesystem::path scratch_;
  std::uint64_t unnamed_count_ = 0;
};

}  // namespace provium
