// Two real guests on the kernel datapath: QEMU on the TAP slots a
// KernelFileNetwork provisions, the guests' own ping, TCP and wget across
// the bridge; partitions, loss, bandwidth, capture and the uplink as the
// guests see them; and nothing left on the host afterwards.
#include "kernel_file_network.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <regex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "datapath_support.h"
#include "kernel_fixture.h"
#include "test_guest.h"
#include "uplink.h"

namespace provium::net {
namespace {

using agent_test::TestGuest;
using agent_test::TestGuestOptions;
namespace wire = provium::wire::agent;
using namespace std::chrono_literals;

constexpr int kNicFdInQemu = 4;

std::set<std::string> host_links() {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator("/sys/class/net")) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

TestGuestOptions nic_options(const OwnedFd& tap, int last_octet) {
  return TestGuestOptions{
      .extra_args = {"-netdev", "tap,id=n0,fd=" + std::to_string(kNicFdInQemu), "-device",
                     "virtio-net-device,netdev=n0,mac=52:54:00:00:00:0" + std::to_string(last_octet)},
      .extra_fds = {{kNicFdInQemu, tap.get()}},
  };
}

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult run(TestGuest& guest, std::vector<std::string> argv) {
  auto done = guest.client().run({.argv = std::move(argv)}, 120s);
  return {done->getRun().getExitCode(), done.stdout_text() + done.stderr_text()};
}

RunResult shell(TestGuest& guest, const std::string& script) { return run(guest, {"sh", "-c", script}); }

int packet_loss_percent(const std::string& ping_output) {
  std::smatch match;
  if (!std::regex_search(ping_output, match, std::regex(R"(([0-9]+)% packet loss)"))) return -1;
  return std::atoi(match[1].str().c_str());
}

// Reads a pcap stream until an ICMP echo request (IPv4 ethertype, protocol 1,
// type 8) turns up; false after 60 s or at the end of the stream.
bool pcap_has_icmp_echo_request(int fd) {
  std::vector<std::uint8_t> stream;
  std::size_t offset = 24;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd readable{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&readable, 1, 1000) <= 0) continue;
    std::uint8_t chunk[65536];
    const ssize_t length = ::read(fd, chunk, sizeof chunk);
    if (length <= 0) return false;
    stream.insert(stream.end(), chunk, chunk + length);
    while (stream.size() >= offset + 16) {
      std::uint32_t captured;
      std::memcpy(&captured, stream.data() + offset + 8, 4);
      if (stream.size() < offset + 16 + captured) break;
      const std::uint8_t* frame = stream.data() + offset + 16;
      if (captured >= 14 + 20 + 1 && frame[12] == 0x08 && frame[13] == 0x00 && frame[14 + 9] == 1) {
        const std::size_t ip_header = (frame[14] & 0x0f) * 4u;
        if (captured > 14 + ip_header && frame[14 + ip_header] == 8) return true;
      }
      offset += 16 + captured;
    }
  }
  return false;
}

void configure(TestGuest& guest, int index, const std::vector<std::pair<TestGuest*, std::string>>& members) {
  const std::uint8_t mac[6] = {0x52, 0x54, 0x00, 0x00, 0x00, static_cast<std::uint8_t>(index + 1)};
  auto configured = guest.client().call([&](wire::Request::Builder r) {
    auto nic = r.initConfigureNic();
    nic.setMac(capnp::Data::Reader(mac, sizeof mac));
    nic.initAddresses(1).set(0, members[static_cast<std::size_t>(index)].second + "/24");
    nic.setUp(true);
  });
  ASSERT_TRUE(configured->isDone()) << guest.name() << ": " << configured->getError().getMessage().cStr();
  auto named = guest.client().call([&](wire::Request::Builder r) {
    auto entries = r.initSetHosts().initEntries(static_cast<unsigned>(members.size()));
    for (std::size_t j = 0; j < members.size(); ++j) {
      entries[static_cast<unsigned>(j)].setAddress(members[j].second);
      entries[static_cast<unsigned>(j)].initNames(1).set(0, members[j].first->name() + ".lan");
    }
  });
  ASSERT_TRUE(named->isDone()) << guest.name() << ": " << named->getError().getMessage().cStr();
}

TEST(KernelFileNetworkGuests, TwoGuestsAcrossTheKernelBridge) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  if (auto why = TestGuest::unavailable()) GTEST_SKIP() << *why;
  const auto links_before = host_links();
  {
    KernelFileNetwork network(1);
    network.add_bridge("lan", {.network = 0x0a010000, .prefix_length = 24, .gateway = 0x0a010001});
    auto a_slots = network.provision("a", 1);
    auto b_slots = network.provision("b", 1);
    TestGuest a("a", nic_options(a_slots[0].fd, 1));
    TestGuest b("b", nic_options(b_slots[0].fd, 2));
    a_slots[0].fd.reset();  // QEMU holds its own copies now
    b_slots[0].fd.reset();
    network.attach("lan", "a", 0);
    network.attach("lan", "b", 0);
    const std::vector<std::pair<TestGuest*, std::string>> members = {{&a, "10.1.0.2"}, {&b, "10.1.0.3"}};
    configure(a, 0, members);
    configure(b, 1, members);

    // By name, and the counters from the guests' side.
    const NicCounters a_before = network.counters("lan", "a");
    const RunResult by_name = run(a, {"ping", "-c", "2", "-W", "5", "b.lan"});
    ASSERT_EQ(by_name.exit_code, 0) << "a resolves b.lan and reaches it:\n" << by_name.output;
    const NicCounters a_after = network.counters("lan", "a");
    EXPECT_GE(a_after.tx_packets - a_before.tx_packets, 2u);
    EXPECT_GE(a_after.rx_packets - a_before.rx_packets, 2u);

    // A capture of a's NIC sees a's echo requests.
    {
      OwnedFd pcap = network.capture("lan", "a");
      EXPECT_EQ(run(a, {"ping", "-c", "1", "-W", "5", "10.1.0.3"}).exit_code, 0);
      EXPECT_TRUE(pcap_has_icmp_echo_request(pcap.get()));
    }

    // Partition, one-way, heal.
    network.apply("lan", {.blocked = {{"a", "b"}, {"b", "a"}}});
    EXPECT_NE(run(a, {"ping", "-c", "2", "-W", "1", "10.1.0.3"}).exit_code, 0) << "partitioned";
    network.apply("lan", {.blocked = {{"a", "b"}}});
    const NicCounters a_rx_before = network.counters("lan", "a");
    EXPECT_NE(run(b, {"ping", "-c", "2", "-W", "1", "10.1.0.2"}).exit_code, 0) << "a's replies are dropped";
    EXPECT_GE(network.counters("lan", "a").rx_packets - a_rx_before.rx_packets, 2u) << "b's requests reach a";
    network.apply("lan", {});
    const RunResult healed = run(a, {"ping", "-c", "2", "-W", "5", "10.1.0.3"});
    EXPECT_EQ(healed.exit_code, 0) << healed.output;

    // Loss of 30 % each way: about half the round trips fail.
    {
      BridgePolicy lossy;
      lossy.whole.loss = 0.3;
      network.apply("lan", lossy);
      const RunResult pings = run(a, {"ping", "-c", "60", "-i", "0.1", "-W", "2", "10.1.0.3"});
      const int lost = packet_loss_percent(pings.output);
      EXPECT_GE(lost, 20) << pings.output;
      EXPECT_LE(lost, 85) << pings.output;
      network.apply("lan", {});
    }

    // The netem error, with the previous policy kept.
    if (netsetup::testing::feature_missing(netsetup::feature::netem)) {
      network.apply("lan", {.blocked = {{"a", "b"}, {"b", "a"}}});
      BridgePolicy slow;
      slow.whole.latency = 50ms;
      try {
        network.apply("lan", slow);
        ADD_FAILURE() << "latency needs sch_netem";
      } catch (const NetworkError& error) {
        EXPECT_NE(std::string(error.what()).find("sch_netem"), std::string::npos) << error.what();
      }
      EXPECT_NE(run(a, {"ping", "-c", "1", "-W", "1", "10.1.0.3"}).exit_code, 0) << "still partitioned";
      network.apply("lan", {});
    }

    // Bandwidth: b serves 1 MB, a fetches it through a 2 Mbit/s limit on b -> a.
    {
      ASSERT_EQ(shell(b, "mkdir -p /tmp/www && dd if=/dev/zero of=/tmp/www/blob bs=1024 count=1024 2>/dev/null && "
                         "httpd -p 8080 -h /tmp/www")
                    .exit_code,
                0);
      // Unshaped first, so the timed fetch below measures the link, not a cold start.
      ASSERT_EQ(run(a, {"wget", "-q", "-O", "/dev/null", "http://10.1.0.3:8080/blob"}).exit_code, 0);
      BridgePolicy shaped;
      constexpr double kRate = 2'000'000;
      shaped.pairs[{"b", "a"}].bandwidth_bps = static_cast<std::uint64_t>(kRate);
      network.apply("lan", shaped);
      const NicCounters before = network.counters("lan", "a");
      const auto start = std::chrono::steady_clock::now();
      const RunResult fetched = run(a, {"wget", "-q", "-O", "/dev/null", "http://10.1.0.3:8080/blob"});
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ASSERT_EQ(fetched.exit_code, 0) << fetched.output;
      // Bits on the wire toward a (what tbf counts), over the fetch's time.
      const double bits = 8.0 * static_cast<double>(network.counters("lan", "a").rx_bytes - before.rx_bytes);
      const double measured = bits / seconds;
      EXPECT_GT(measured, kRate * 0.85) << measured << " bit/s";
      EXPECT_LT(measured, kRate * 1.15) << measured << " bit/s";
      network.apply("lan", {});
    }

    // Uplink: a reaches a TCP listener on the host-side address.
    {
      const UplinkInfo uplink = network.enable_uplink("lan");
      const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      ASSERT_GE(listener, 0);
      OwnedFd listening(listener);
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(uplink.host_address);
      ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << strerror(errno);
      socklen_t size = sizeof address;
      ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size), 0);
      ASSERT_EQ(::listen(listener, 1), 0);
      std::string peer;
      std::thread server([&] {
        pollfd incoming{.fd = listener, .events = POLLIN, .revents = 0};
        if (::poll(&incoming, 1, 60'000) != 1) return;
        sockaddr_in from{};
        socklen_t from_size = sizeof from;
        OwnedFd connection(::accept4(listener, reinterpret_cast<sockaddr*>(&from), &from_size, SOCK_CLOEXEC));
        if (!connection.valid()) return;
        peer = netsetup::ipv4_text(ntohl(from.sin_addr.s_addr));
        char request[1024];
        [[maybe_unused]] const ssize_t got = ::read(connection.get(), request, sizeof request);
        const std::string reply = "HTTP/1.0 200 OK\r\nContent-Length: 9\r\n\r\nfrom-host";
        [[maybe_unused]] const ssize_t sent = ::write(connection.get(), reply.data(), reply.size());
      });
      const std::string url =
          "http://" + netsetup::ipv4_text(uplink.host_address) + ":" + std::to_string(ntohs(address.sin_port)) + "/";
      const RunResult fetched = shell(a, "ip route add default via 10.1.0.1 && wget -q -O - " + url);
      server.join();
      EXPECT_EQ(fetched.exit_code, 0) << fetched.output;
      EXPECT_NE(fetched.output.find("from-host"), std::string::npos) << fetched.output;
      EXPECT_EQ(peer, netsetup::ipv4_text(uplink.host_address + 1)) << "masqueraded behind the namespace's end";
    }
  }
  EXPECT_EQ(host_links(), links_before) << "nothing of the network is left on the host";
}

}  // namespace
}  // namespace provium::net
