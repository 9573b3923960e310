#include "test_guest.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace provium::agent_test {
namespace fs = std::filesystem;

namespace {

constexpr int kAgentFdInQemu = 3;

fs::path guest_dir() {
  const char* dir = std::getenv("PROVIUM_GUEST_DIR");
  return dir != nullptr ? dir : "guest";
}

std::string read_text(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  std::string text = content.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

std::optional<std::string> TestGuest::unavailable() {
  if (!find_program("qemu-system-x86_64")) return "qemu-system-x86_64 not installed";
  if (!fs::exists(guest_dir() / "vmlinux") || !fs::exists(guest_dir() / "initramfs.cpio")) {
    return "no default guest in " + guest_dir().string() + " (build the default-guest target)";
  }
  return std::nullopt;
}

TestGuest::TestGuest(const std::string& name, const TestGuestOptions& options) : name_(name) {
  const fs::path dir = guest_dir();
  scratch_ = fs::temp_directory_path() / ("provium-test-guest-" + std::to_string(::getpid()) + "-" + name);
  fs::create_directories(scratch_);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair failed");
  host_end_ = OwnedFd(fds[0]);
  OwnedFd qemu_end(fds[1]);

  SpawnSpec spec;
  spec.argv = {*find_program("qemu-system-x86_64"), "-M", "microvm", "-accel", "tcg", "-cpu", "qemu64", "-m", "256",
               "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
               "-kernel", (dir / "vmlinux").string(), "-initrd", (dir / "initramfs.cpio").string(),
               "-append", read_text(dir / "cmdline") + options.extra_cmdline,
               "-serial", "file:" + (scratch_ / "console.log").string(),
               "-device", "virtio-serial-device", "-device", "virtserialport,chardev=agent,name=agent",
               "-chardev", "socket,id=agent,fd=" + std::to_string(kAgentFdInQemu)};
  spec.argv.insert(spec.argv.end(), options.extra_args.begin(), options.extra_args.end());
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.fds = {{2, STDERR_FILENO}, {kAgentFdInQemu, qemu_end.get()}};
  spec.fds.insert(spec.fds.end(), options.extra_fds.begin(), options.extra_fds.end());
  qemu_ = std::make_unique<Subprocess>(Subprocess::spawn(spec));
  client_.emplace(host_end_.get());
}

TestGuest::~TestGuest() {
  if (qemu_ && qemu_->running()) qemu_->kill_and_wait();
  std::error_code ignored;
  fs::remove_all(scratch_, ignored);
}

AgentTestClient& TestGuest::client() {
  if (!greeted_) {
    auto hello = client_->hello();
    if (!hello->isHelloOk()) throw std::runtime_error(name_ + ": no helloOk; console:\n" + console());
    greeted_ = true;
  }
  return *client_;
}

std::string TestGuest::console() const { return read_text(scratch_ / "console.log"); }

}  // namespace provium::agent_test
