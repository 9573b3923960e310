#include "fixture_build_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace provium {

FixtureBuildLock::FixtureBuildLock(std::filesystem::path path, kj::AutoCloseFd fd)
    : path_(std::move(path)), fd_(std::move(fd)) {}

FixtureBuildLock::~FixtureBuildLock() {
  if (fd_.get() >= 0) ::flock(fd_.get(), LOCK_UN);
}

kj::AutoCloseFd FixtureBuildLock::open_lock_file(const std::filesystem::path& lock_path) {
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "fixture lock " + lock_path.string());
  return kj::AutoCloseFd(fd);
}

void FixtureBuildLock::note_holder(const std::string& holder) {
  const std::string line = holder + "\n";
  // Best effort: the note only feeds a waiter's message.
  if (::ftruncate(fd_.get(), 0) == 0) (void)!::pwrite(fd_.get(), line.data(), line.size(), 0);
}

std::optional<FixtureBuildLock> FixtureBuildLock::try_acquire(const std::filesystem::path& lock_path,
                                                              const std::string& holder) {
  kj::AutoCloseFd fd = open_lock_file(lock_path);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return std::nullopt;
    throw std::system_error(errno, std::generic_category(), "fixture lock " + lock_path.string());
  }
  FixtureBuildLock lock(lock_path, std::move(fd));
  lock.note_holder(holder);
  return lock;
}

FixtureBuildLock FixtureBuildLock::acquire(const std::filesystem::path& lock_path, const std::string& holder,
                                           const std::function<void(const std::string& held_by)>& on_wait) {
  if (auto lock = try_acquire(lock_path, holder)) return std::move(*lock);
  if (on_wait) on_wait(fixture_lock_holder(lock_path));
  kj::AutoCloseFd fd = open_lock_file(lock_path);
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "fixture lock " + lock_path.string());
  }
  FixtureBuildLock lock(lock_path, std::move(fd));
  lock.note_holder(holder);
  return lock;
}

std::string fixture_lock_holder(const std::filesystem::path& lock_path) {
  std::ifstream file(lock_path);
  std::string holder;
  std::getline(file, holder);
  return holder;
}

}  // namespace provium
