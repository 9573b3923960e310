// Cold boot to the first finished command: provium against bare QEMU.
//
// Both sides boot the bundled default guest with the same kernel, initrd,
// cmdline and QEMU flags (the bare side calls the supervisor's own QEMU
// launcher and speaks the agent protocol directly, with no supervisor, runner
// or RPC in between). Rounds are interleaved and alternate which side goes
// first, because this host's speed drifts; the result is printed as ratios of
// medians measured in this run, never compared with fixed numbers.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <unistd.h>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "accel.h"
#include "agent.capnp.h"
#include "boot_plan.h"
#include "bundled_guest.h"
#include "frame.h"
#include "guest_image.h"
#include "install_layout.h"
#include "qemu_privileges.h"
#include "qemu_spawn.h"
#include "subprocess.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
namespace agent = provium::wire::agent;

namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void write_all(int fd, const std::vector<std::byte>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) throw std::runtime_error("write to the agent channel failed");
    done += static_cast<size_t>(n);
  }
}

// Sends one request and waits for the response with the same id.
void round_trip(int fd, provium::frame::Decoder& decoder, capnp::MallocMessageBuilder& message, uint64_t id) {
  write_all(fd, provium::frame::encode(message));
  std::byte buffer[65536];
  for (;;) {
    while (auto body = decoder.next()) {
      capnp::FlatArrayMessageReader reader(*body, provium::frame::reader_options());
      auto response = reader.getRoot<agent::Response>();
      if (response.getId() != id) continue;
      if (response.isError()) throw std::runtime_error(response.getError().getMessage().cStr());
      return;
    }
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, 120000) != 1) throw std::runtime_error("the agent did not answer within 120 s");
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) throw std::runtime_error("the agent channel closed");
    decoder.feed(buffer, static_cast<size_t>(n));
  }
}

struct Bare {
  provium::BootPlan plan;
  std::string qemu;
  provium::Accel accel;
  provium::PrivilegeDrop privileges;

  // QEMU start -> agent hello answered -> `true` finished.
  double measure() const {
    const auto start = Clock::now();
    auto qemu_process = provium::spawn_qemu({.qemu_binary = qemu,
                                             .accel = accel,
                                             .privileges = privileges,
                                             .plan = &plan,
                                             .image = provium::open_guest_image(plan.kernel, plan.initrd, {},
                                                                                privileges.switch_user)});
    // Drain the console as the supervisor does, so the guest never waits on it.
    std::thread console_drain([fd = qemu_process.console.get()] {
      char sink[4096];
      while (::read(fd, sink, sizeof sink) > 0) {
      }
    });
    provium::frame::Decoder decoder;
    {
      capnp::MallocMessageBuilder hello;
      auto request = hello.initRoot<agent::Request>();
      request.setId(1);
      request.initHello().setProtocolVersion(agent::PROTOCOL_VERSION);
      round_trip(qemu_process.agent.get(), decoder, hello, 1);
    }
    capnp::MallocMessageBuilder run;
    auto request = run.initRoot<agent::Request>();
    request.setId(2);
    auto argv = request.initRun().initArgv(1);
    argv.set(0, "true");
    round_trip(qemu_process.agent.get(), decoder, run, 2);
    const double elapsed = ms_since(start);
    qemu_process.process.kill_and_wait();
    console_drain.join();  // QEMU's end closed with the process: read() returns 0
    return elapsed;
  }
};

struct ProviumSide {
  fs::path provium;
  fs::path test_file;

  // Returns {whole `provium` process, the test body: boot + run("true")}.
  std::pair<double, double> measure() const {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    kj::AutoCloseFd read_end(out[0]);
    const auto start = Clock::now();
    auto child = provium::Subprocess::spawn(
        {.argv = {provium.string(), "--json", "--no-preflight", test_file.string()},
         .env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/root"},
         .fds = {{1, out[1]}}});
    ::close(out[1]);
    std::string json;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(read_end.get(), buffer, sizeof buffer)) > 0) json.append(buffer, static_cast<size_t>(n));
    const auto status = child.wait();
    const double whole = ms_since(start);
    if (!status.exited || status.code != 0) throw std::runtime_error("provium failed: " + json);
    const auto report = nlohmann::json::parse(json.substr(0, json.find('\n')));
    return {whole, report.at("tests").at(0).at("duration_ms").get<double>()};
  }
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const fs::path exe_dir = fs::canonical("/proc/self/exe").parent_path();
  const fs::path provium = exe_dir / ".." / "supervisor" / "provium";

  const auto guest = provium::load_bundled_guest(provium::find_bundled_guest_dir(exe_dir / ".." / "supervisor"));
  if (!guest) {
    std::fprintf(stderr, "boot-bench: the bundled guest is not built\n");
    return 2;
  }
  provium::Config config;
  provium::add_builtin_default_profile(config, guest, provium::find_bundled_guest_dir(exe_dir / ".." / "supervisor"));
  const auto decision = provium::decide_accel(provium::AccelChoice::automatic, provium::probe_host_accel());
  Bare bare{.plan = provium::make_boot_plan("bench", config.profiles.at("default"), {}),
            .qemu = provium::find_program("qemu-system-x86_64").value(),
            .accel = decision.accel,
            .privileges = provium::plan_privilege_drop(decision.accel == provium::Accel::kvm)};

  char dir_template[] = "/tmp/provium-bench-XXXXXX";
  const fs::path dir = ::mkdtemp(dir_template);
  ProviumSide side{provium, dir / "boot.test.lua"};
  std::ofstream(side.test_file) << "test(\"boot\", function(t)\n"
                                   "  provium:vm(\"b\", \"default\"):boot():run(\"true\"):assert_ok()\nend)\n";

  std::vector<double> bare_ms, body_ms, whole_ms;
  for (int round = 0; round < rounds; ++round) {
    auto run_provium = [&] {
      auto [whole, body] = side.measure();
      whole_ms.push_back(whole);
      body_ms.push_back(body);
    };
    if (round % 2 == 0) {
      bare_ms.push_back(bare.measure());
      run_provium();
    } else {
      run_provium();
      bare_ms.push_back(bare.measure());
    }
    std::printf("round %d: bare %.0f ms, provium test body %.0f ms, provium process %.0f ms\n", round + 1,
                bare_ms.back(), body_ms.back(), whole_ms.back());
  }
  fs::remove_all(dir);
  const double floor = median(bare_ms);
  std::printf("\nboot to first finished run (%s, median of %d, interleaved):\n", decision.accel == provium::Accel::kvm ? "kvm" : "tcg", rounds);
  std::printf("  bare QEMU + agent:            %7.0f ms  (1.00x)\n", floor);
  std::printf("  provium, vm:boot()+vm:run():  %7.0f ms  (%.2fx)   goal <= 1.15x\n", median(body_ms), median(body_ms) / floor);
  std::printf("  provium, whole process:       %7.0f ms  (%.2fx)\n", median(whole_ms), median(whole_ms) / floor);
  return 0;
}
