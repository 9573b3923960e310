// Test-network datapaths: how long a bridge with two attachments takes to
// set up, and what two real guests get across it (TCP throughput, ping RTT).
//
// The program measures any FileNetwork: a datapath is a name and a factory
// (kDatapaths below), and the guests' QEMU NIC arguments follow the
// backend kind the datapath hands out (TAP fd or dgram socket). The user
// datapath needs no privileges, so it always runs.
//
// Guests are the agent tests' TestGuest (tests/unit/agent/test_guest.h): the
// supervisor's own launcher takes no NIC fds yet.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "kernel_file_network.h"
#include "test_guest.h"
#include "user_file_network.h"

namespace {

using provium::OwnedFd;
using provium::agent_test::TestGuest;
using provium::agent_test::TestGuestOptions;
using provium::net::FileNetwork;
using provium::net::GuestNicBackend;
namespace wire = provium::wire::agent;
using namespace std::chrono_literals;

struct Datapath {
  const char* name;
  std::function<std::unique_ptr<FileNetwork>()> make;
  std::function<std::optional<std::string>()> unavailable;
};

const std::vector<Datapath> kDatapaths = {
    {"kernel", [] { return std::make_unique<provium::net::KernelFileNetwork>(1); },
     []() -> std::optional<std::string> {
       std::string why;
       if (provium::net::kernel_datapath_usable(&why)) return std::nullopt;
       return why;
     }},
    {"user", [] { return std::make_unique<provium::net::UserFileNetwork>(); },
     []() -> std::optional<std::string> { return std::nullopt; }},
};

constexpr int kNicFdInQemu = 4;

TestGuestOptions nic_options(const GuestNicBackend& backend, int last_octet) {
  const std::string fd = std::to_string(kNicFdInQemu);
  const std::string netdev = backend.kind == GuestNicBackend::Kind::tap
                                 ? "tap,id=n0,fd=" + fd
                                 : "dgram,id=n0,local.type=fd,local.str=" + fd;
  return {.extra_args = {"-netdev", netdev, "-device",
                         "virtio-net-device,netdev=n0,mac=52:54:00:00:00:0" + std::to_string(last_octet)},
          .extra_fds = {{kNicFdInQemu, backend.fd.get()}}};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// add_bridge + provision two one-slot VMs + attach both, on a fresh network.
double setup_ms(const Datapath& datapath) {
  auto network = datapath.make();
  const auto start = std::chrono::steady_clock::now();
  network->add_bridge("lan", {.network = 0x0a010000, .prefix_length = 24, .gateway = 0x0a010001});
  auto a = network->provision("a", 1);
  auto b = network->provision("b", 1);
  network->attach("lan", "a", 0);
  network->attach("lan", "b", 0);
  return milliseconds_since(start);
}

void configure(TestGuest& guest, int index) {
  const std::uint8_t mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(index + 1)};
  auto configured = guest.client().call([&](wire::Request::Builder r) {
    auto nic = r.initConfigureNic();
    nic.setMac(capnp::Data::Reader(mac, sizeof mac));
    nic.initAddresses(1).set(0, "10.1.0." + std::to_string(index + 2) + "/24");
    nic.setUp(true);
  });
  if (!configured->isDone()) throw std::runtime_error(guest.name() + ": configureNic failed");
}

int run(TestGuest& guest, const std::string& script, std::string* output = nullptr) {
  auto done = guest.client().run({.argv = {"sh", "-c", script}}, 300s);
  if (output) *output = done.stdout_text() + done.stderr_text();
  return done->getRun().getExitCode();
}

struct GuestFigures {
  double megabits_per_second = 0;
  double rtt_ms = 0;
};

// b serves `megabytes` over HTTP, a fetches it; then a pings b 20 times.
GuestFigures guest_figures(const Datapath& datapath, int megabytes) {
  auto network = datapath.make();
  network->add_bridge("lan", {.network = 0x0a010000, .prefix_length = 24, .gateway = 0x0a010001});
  auto a_slots = network->provision("a", 1);
  auto b_slots = network->provision("b", 1);
  TestGuest a("a", nic_options(a_slots[0], 1));
  TestGuest b("b", nic_options(b_slots[0], 2));
  a_slots.clear();
  b_slots.clear();
  network->attach("lan", "a", 0);
  network->attach("lan", "b", 0);
  configure(a, 0);
  configure(b, 1);
  if (run(b, "mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/blob bs=1M count=" + std::to_string(megabytes) +
                 " 2>/dev/null && httpd -p 8080 -h /tmp/www") != 0) {
    throw std::runtime_error("b: cannot start httpd");
  }
  // Timed inside a's guest (its uptime), so the agent round trip stays out.
  std::string output;
  if (run(a, "read s _ </proc/uptime; wget -q -O /dev/null http://10.1.0.3:8080/blob || exit 1; "
             "read e _ </proc/uptime; echo \"$s $e\"",
          &output) != 0) {
    throw std::runtime_error("a: wget failed: " + output);
  }
  double started = 0, ended = 0;
  std::sscanf(output.c_str(), "%lf %lf", &started, &ended);
  GuestFigures figures;
  figures.megabits_per_second = megabytes * 8.0 * 1.048576 / std::max(ended - started, 0.01);
  if (run(a, "ping -c 20 -i 0.2 10.1.0.3", &output) != 0) throw std::runtime_error("a: ping failed: " + output);
  std::smatch match;  // busybox: "round-trip min/avg/max = 0.512/0.734/1.012 ms"
  if (std::regex_search(output, match, std::regex(R"(= [0-9.]+/([0-9.]+)/)"))) {
    figures.rtt_ms = std::atof(match[1].str().c_str());
  }
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 3;
  const int megabytes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 16;
  if (!std::getenv("PROVIUM_GUEST_DIR")) {
    const auto guest = std::filesystem::canonical("/proc/self/exe").parent_path() / ".." / "guest";
    ::setenv("PROVIUM_GUEST_DIR", guest.c_str(), 1);
  }
  struct Medians {
    std::string name;
    double setup_ms = 0, megabits_per_second = 0, rtt_ms = 0;
  };
  std::vector<Medians> measured;  // datapaths with guest figures, in table order
  for (const Datapath& datapath : kDatapaths) {
    if (auto why = datapath.unavailable()) {
      std::printf("%s datapath: skipped: %s\n", datapath.name, why->c_str());
      continue;
    }
    std::vector<double> setup, throughput, rtt;
    for (int round = 0; round < 20 * rounds; ++round) setup.push_back(setup_ms(datapath));
    if (auto why = TestGuest::unavailable()) {
      std::printf("%s datapath: guests skipped: %s\n", datapath.name, why->c_str());
    } else {
      for (int round = 0; round < rounds; ++round) {
        const GuestFigures figures = guest_figures(datapath, megabytes);
        throughput.push_back(figures.megabits_per_second);
        rtt.push_back(figures.rtt_ms);
        std::printf("%s round %d: %.1f Mbit/s, ping %.3f ms\n", datapath.name, round + 1, throughput.back(),
                    rtt.back());
      }
    }
    std::printf("\n%s datapath (medians):\n", datapath.name);
    std::printf("  bridge + 2 attachments set-up: %8.2f ms  (%zu runs)\n", median(setup), setup.size());
    if (!throughput.empty()) {
      std::printf("  guest-to-guest HTTP, %d MiB:   %8.1f Mbit/s  (%d rounds)\n", megabytes, median(throughput),
                  rounds);
      std::printf("  guest-to-guest ping RTT:       %8.3f ms\n", median(rtt));
      measured.push_back({datapath.name, median(setup), median(throughput), median(rtt)});
    }
  }
  // Ratios against the first datapath measured in this same run (the host's
  // speed drifts between runs, so only these compare).
  for (std::size_t i = 1; i < measured.size(); ++i) {
    const Medians& base = measured[0];
    const Medians& other = measured[i];
    std::printf("\n%s / %s: set-up x%.3f, throughput x%.2f, ping RTT x%.2f\n", other.name.c_str(),
                base.name.c_str(), other.setup_ms / base.setup_ms,
                other.megabits_per_second / base.megabits_per_second, other.rtt_ms / base.rtt_ms);
  }
  return 0;
}
