#include "snapshot_places.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace provium {

namespace fs = std::filesystem;

namespace {

bool inside(const fs::path& path, const fs::path& root) {
  const fs::path relative = path.lexically_relative(root);
  return !relative.empty() && *relative.begin() != "..";
}

std::string safe_label(const std::string& text) {
  std::string out;
  for (char c : text) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
  return out.empty() ? "vm" : out.substr(0, 64);
}

}  // namespace

void SnapshotPlaces::remove_abandoned(const fs::path& root) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root, error)) {
    const std::string name = entry.path().filename().string();
    // .scratch-<label>-<pid>-<n>/ and .<file>.partial-<pid>-<n>
    const bool scratch = name.rfind(".scratch-", 0) == 0;
    const bool partial = name.find(".partial-") != std::string::npos && name.front() == '.';
    if (!scratch && !partial) continue;
    const auto last_dash = name.rfind('-');
    const auto pid_dash = last_dash == std::string::npos ? std::string::npos : name.rfind('-', last_dash - 1);
    if (pid_dash == std::string::npos) continue;
    const std::string pid = name.substr(pid_dash + 1, last_dash - pid_dash - 1);
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (fs::exists(fs::path("/proc") / pid, error)) continue;  // its provium may still be running
    fs::remove_all(entry.path(), error);
  }
}

PendingSnapshot::~PendingSnapshot() {
  if (!committed_ && !temporary_.empty()) {
    std::error_code ignored;
    fs::remove(temporary_, ignored);
  }
}

void PendingSnapshot::commit() {
  if (::fsync(fd_.get()) != 0 && errno != EINVAL) {
    throw SnapshotPathError(fmt::format("snapshot {}: fsync: {}", final_.string(), std::strerror(errno)));
  }
  if (::rename(temporary_.c_str(), final_.c_str()) != 0) {
    throw SnapshotPathError(fmt::format("snapshot {}: cannot move it into place: {}", final_.string(), std::strerror(errno)));
  }
  committed_ = true;
}

SnapshotPlaces::SnapshotPlaces(fs::path root, std::string scratch_label)
    : root_(std::move(root)), scratch_label_(safe_label(scratch_label)) {}

SnapshotPlaces::~SnapshotPlaces() {
  if (scratch_.empty()) return;
  std::error_code ignored;
  fs::remove_all(scratch_, ignored);
}

fs::path SnapshotPlaces::ensure_root() {
  std::error_code error;
  const bool created = fs::create_directories(root_, error);
  if (error) throw SnapshotPathError(fmt::format("snapshot_dir {}: {}", root_.string(), error.message()));
  // Snapshots hold whole guests' memory: only we may look.
  if (created) fs::permissions(root_, fs::perms::owner_all, fs::perm_options::replace, error);
  const fs::path real = fs::canonical(root_, error);
  if (error) throw SnapshotPathError(fmt::format("snapshot_dir {}: {}", root_.string(), error.message()));
  struct stat st {};
  if (::stat(real.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw SnapshotPathError(fmt::format("snapshot_dir {} is not a directory", real.string()));
  }
  // Someone else's directory could have its files swapped under us.
  if (st.st_uid != ::geteuid()) {
    throw SnapshotPathError(fmt::format("snapshot_dir {} belongs to uid {}, not to this user (uid {})", real.string(),
                                        st.st_uid, ::geteuid()));
  }
  return real;
}

fs::path SnapshotPlaces::ensure_scratch() {
  if (!scratch_.empty()) return scratch_;
  const fs::path root = ensure_root();
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = root / fmt::format(".scratch-{}-{}-{}", scratch_label_, ::getpid(), attempt);
    if (::mkdir(candidate.c_str(), 0700) == 0) return scratch_ = candidate;
    if (errno != EEXIST) {
      throw SnapshotPathError(fmt::format("snapshot scratch directory {}: {}", candidate.string(), std::strerror(errno)));
    }
  }
  throw SnapshotPathError("cannot make a snapshot scratch directory in " + root.string());
}

fs::path SnapshotPlaces::resolve(const std::string& requested) {
  if (requested.empty()) throw SnapshotPathError("snapshot path is empty");
  if (requested.size() > 4000 || requested.find('\0') != std::string::npos) {
    throw SnapshotPathError("snapshot path is not a usable path");
  }
  const fs::path root = ensure_root();
  fs::path wanted = fs::path(requested);
  wanted = (wanted.is_absolute() ? wanted : root / wanted).lexically_normal();
  const fs::path leaf = wanted.filename();
  if (leaf.empty() || leaf == "." || leaf == "..") {
    throw SnapshotPathError(fmt::format("snapshot path `{}` does not name a file", requested));
  }
  std::error_code error;
  const fs::path parent = fs::canonical(wanted.parent_path(), error);
  if (error) {
    throw SnapshotPathError(fmt::format("snapshot path `{}`: its directory {}: {}", requested,
                                        wanted.parent_path().string(), error.message()));
  }
  if (parent != root && !inside(parent, root)) {
    throw SnapshotPathError(fmt::format("snapshot path `{}` is outside snapshot_dir ({}); snapshots may only be "
                                        "written and read there (set [provium] snapshot_dir in provium.toml)",
                                        requested, root.string()));
  }
  return parent / leaf;
}

PendingSnapshot SnapshotPlaces::create(const std::string& requested, const std::string& vm) {
  const fs::path final_path =
      requested.empty() ? ensure_scratch() / fmt::format("{}-{}.snap", safe_label(vm), ++unnamed_count_) : resolve(requested);
  struct stat st {};
  if (::lstat(final_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    throw SnapshotPathError(fmt::format("snapshot path {} exists and is not a regular file", final_path.string()));
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path temporary = final_path.parent_path() /
                         fmt::format(".{}.partial-{}-{}", final_path.filename().string(), ::getpid(), attempt);
    OwnedFd fd(::open(temporary.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.valid()) return PendingSnapshot(std::move(fd), std::move(temporary), final_path);
    if (errno != EEXIST) {
      throw SnapshotPathError(fmt::format("snapshot {}: cannot create it: {}", final_path.string(), std::strerror(errno)));
    }
  }
  throw SnapshotPathError(fmt::format("snapshot {}: cannot create a temporary file next to it", final_path.string()));
}

fs::path SnapshotPlaces::resolve_for_reading(const std::string& requested) {
  try {
    return resolve(requested);
  } catch (const SnapshotPathError&) {
    const fs::path wanted = fs::path(requested).lexically_normal();
    std::error_code error;
    const fs::path parent = fs::canonical(wanted.parent_path(), error);
    const fs::path leaf = wanted.filename();
    for (const fs::path& readable : readable_) {
      if (error || !wanted.is_absolute() || leaf.empty() || leaf == "..") break;
      // The allowed directory itself, or anything inside it.
      if (parent / leaf == readable || parent == readable || inside(parent, readable)) return parent / leaf;
    }
    throw;
  }
}

fs::path SnapshotPlaces::create_directory(const std::string& requested) {
  if (requested.empty()) {
    const fs::path scratch = ensure_scratch();
    for (int attempt = 0; attempt < 1000; ++attempt) {
      fs::path candidate = scratch / fmt::format("lab-{}", ++unnamed_count_);
      if (::mkdir(candidate.c_str(), 0700) == 0) return candidate;
      if (errno != EEXIST) {
        throw SnapshotPathError(fmt::format("lab snapshot {}: {}", candidate.string(), std::strerror(errno)));
      }
    }
    throw SnapshotPathError("cannot make a lab snapshot directory in " + scratch.string());
  }
  const fs::path path = resolve(requested);
  if (::mkdir(path.c_str(), 0700) == 0) return path;
  struct stat st {};
  if (errno != EEXIST || ::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw SnapshotPathError(fmt::format("lab snapshot {}: {}", path.string(),
                                        errno == EEXIST ? "exists and is not a directory" : std::strerror(errno)));
  }
  return path;
}

fs::path SnapshotPlaces::existing_directory(const std::string& requested) {
  const fs::path path = resolve_for_reading(requested);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    throw SnapshotPathError(fmt::format("lab snapshot {}: {}", path.string(), std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) throw SnapshotPathError(fmt::format("lab snapshot {} is not a directory", path.string()));
  return path;
}

void SnapshotPlaces::allow_reading(const fs::path& directory) {
  std::error_code error;
  const fs::path real = fs::canonical(directory, error);
  if (error) throw SnapshotPathError(fmt::format("{}: {}", directory.string(), error.message()));
  readable_.push_back(real);
}

OwnedFd SnapshotPlaces::open_existing(const std::string& requested, fs::path* resolved) {
  const fs::path path = resolve_for_reading(requested);
  OwnedFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    throw SnapshotPathError(fmt::format("snapshot {}: {}", path.string(),
                                        errno == ELOOP ? "is a symbolic link" : std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw SnapshotPathError(fmt::format("snapshot {} is not a regular file", path.string()));
  }
  if (resolved) *resolved = path;
  return fd;
}

}  // namespace provium
