#include "bare_guest.h"

#include <filesystem>
#include <stdexcept>

#include <poll.h>
#include <unistd.h>

#include <capnp/serialize.h>

#include "accel.h"
#include "agent.capnp.h"
#include "bundled_guest.h"
#include "guest_image.h"
#include "install_layout.h"

namespace provium::bench {
namespace agent = wire::agent;

BareGuestSpec bare_guest_spec() {
  const auto supervisor_dir = std::filesystem::canonical("/proc/self/exe").parent_path() / ".." / "supervisor";
  const Located dir = find_bundled_guest_dir(supervisor_dir);
  const auto guest = load_bundled_guest(dir);
  if (!guest) throw std::runtime_error("the bundled guest is not built (searched " + dir.searched_list() + ")");
  Config config;
  add_builtin_default_profile(config, guest, dir);
  const auto decision = decide_accel(AccelChoice::automatic, probe_host_accel());
  return {.plan = make_boot_plan("bench", config.profiles.at("default"), {}),
          .qemu = find_program("qemu-system-x86_64").value(),
          .accel = decision.accel,
          .privileges = plan_privilege_drop(decision.accel == Accel::kvm)};
}

BareGuest::BareGuest(const BareGuestSpec& spec)
    : ram_(GuestRam::create(spec.plan.memory_bytes, spec.plan.vm_name)),
      qemu_(spawn_qemu({.qemu_binary = spec.qemu,
                        .accel = spec.accel,
                        .privileges = spec.privileges,
                        .plan = &spec.plan,
                        .image = open_guest_image(spec.plan.kernel, spec.plan.initrd, {},
                                                  spec.privileges.switch_user),
                        .ram_fd = ram_.fd()})),
      // Drain the console as the supervisor does, so the guest never waits on it.
      console_drain_([fd = qemu_.console.get()] {
        char sink[4096];
        while (::read(fd, sink, sizeof sink) > 0) {
        }
      }) {
  capnp::MallocMessageBuilder hello;
  hello.initRoot<agent::Request>().initHello().setProtocolVersion(agent::PROTOCOL_VERSION);
  round_trip(hello);
}

BareGuest::~BareGuest() {
  qemu_.process.kill_and_wait();
  console_drain_.join();  // QEMU's end closed with the process: read() returns 0
}

kj::Array<capnp::word> BareGuest::round_trip(capnp::MallocMessageBuilder& message) {
  const std::uint64_t id = next_id_++;
  message.getRoot<agent::Request>().setId(id);
  const auto bytes = frame::encode(message);
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(qemu_.agent.get(), bytes.data() + done, bytes.size() - done);
    if (n <= 0) throw std::runtime_error("write to the agent channel failed");
    done += static_cast<size_t>(n);
  }
  std::byte buffer[65536];
  for (;;) {
    while (auto body = decoder_.next()) {
      capnp::FlatArrayMessageReader reader(*body, frame::reader_options());
      auto response = reader.getRoot<agent::Response>();
      if (response.getId() != id) continue;
      if (response.isError()) throw std::runtime_error(response.getError().getMessage().cStr());
      return kj::mv(*body);
    }
    pollfd pfd{qemu_.agent.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 120000) != 1) throw std::runtime_error("the agent did not answer within 120 s");
    const ssize_t n = ::read(qemu_.agent.get(), buffer, sizeof buffer);
    if (n <= 0) throw std::runtime_error("the agent channel closed");
    decoder_.feed(buffer, static_cast<size_t>(n));
  }
}

std::string BareGuest::run(std::initializer_list<const char*> argv) {
  capnp::MallocMessageBuilder message;
  auto list = message.initRoot<agent::Request>().initRun().initArgv(static_cast<unsigned>(argv.size()));
  unsigned index = 0;
  for (const char* arg : argv) list.set(index++, arg);
  const auto words = round_trip(message);
  capnp::FlatArrayMessageReader reader(words, frame::reader_options());
  auto stdout_bytes = reader.getRoot<agent::Response>().getRun().getStdout();
  return std::string(reinterpret_cast<const char*>(stdout_bytes.begin()), stdout_bytes.size());
}

void BareGuest::ping() {
  capnp::MallocMessageBuilder message;
  message.initRoot<agent::Request>().setPing();
  round_trip(message);
}

}  // namespace provium::bench
