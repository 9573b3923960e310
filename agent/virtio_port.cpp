#include "virtio_port.h"

#include "log.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <thread>

namespace provium::agent {
namespace {

constexpr const char* kPortClassDir = "/sys/class/virtio-ports";
constexpr std::chrono::milliseconds kRetryInterval{10};

std::string read_first_line(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

}  // namespace

std::string find_virtio_port(const std::string& name) {
  DIR* dir = ::opendir(kPortClassDir);
  if (dir == nullptr) return "";
  std::string found;
  while (dirent* entry = ::readdir(dir)) {
    const std::string port = entry->d_name;
    if (port.starts_with(".")) continue;
    if (read_first_line(std::string(kPortClassDir) + "/" + port + "/name") == name) {
      found = "/dev/" + port;
      break;
    }
  }
  ::closedir(dir);
  return found;
}

UniqueFd open_virtio_port(const std::string& name, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string path;
  int last_error = 0;
  for (;;) {
    path = find_virtio_port(name);
    if (!path.empty()) {
      UniqueFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
      if (fd.valid()) return fd;
      last_error = errno;  // ENOENT until devtmpfs has created the node
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kRetryInterval);
  }
  const auto seconds = std::to_string(limit.count() / 1000.0).substr(0, 4);
  if (path.empty()) {
    log_error("no virtio-serial port named \"" + name + "\" appeared within " + seconds +
              " s; is QEMU started with -device virtserialport,name=" + name +
              " and is virtio_console loaded?");
  } else {
    log_errno("open " + path + " (virtio-serial port \"" + name + "\")", last_error);
  }
  return UniqueFd();
}

}  // namespace provium::agent
