// The per-key build lock of the fixture cache: an flock(2) on
// `<entry>.lock`, so only one provium process builds a fixture while the
// others wait, and the kernel drops the lock when its holder dies (a crashed
// build never wedges the cache). The holder writes who it is into the file so
// a waiter can say whom it waits for.
#pragma once

#include <kj/io.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace provium {

class FixtureBuildLock {
 public:
  // Takes the lock if it is free.
  static std::optional<FixtureBuildLock> try_acquire(const std::filesystem::path& lock_path,
                                                     const std::string& holder);
  // Waits for the lock; `on_wait(held_by)` is called once if it is busy.
  static FixtureBuildLock acquire(const std::filesystem::path& lock_path, const std::string& holder,
                                  const std::function<void(const std::string& held_by)>& on_wait);

  FixtureBuildLock(FixtureBuildLock&&) noexcept = default;
  FixtureBuildLock& operator=(FixtureBuildLock&&) noexcept = default;
  ~FixtureBuildLock();  // unlocks; the lock file stays (removing it would race a waiter)

  const std::filesystem::path& path() const { return path_; }

 private:
  FixtureBuildLock(std::filesystem::path path, kj::AutoCloseFd fd);
  static kj::AutoCloseFd open_lock_file(const std::filesystem::path& lock_path);
  void note_holder(const std::string& holder);

  std::filesystem::path path_;
  kj::AutoCloseFd fd_;
};

// Who holds (or last held) the lock at `lock_path`, as written by the holder.
std::string fixture_lock_holder(const std::filesystem::path& lock_path);

}  // namespace provium
