// Per-file namespaces: names never collide, the host is untouched, work runs
// inside on demand, and a crash takes everything with it.
#include "net_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "bridge.h"
#include "kernel_fixture.h"
#include "link.h"
#include "veth_pair.h"

namespace provium::netsetup {
namespace {

ino_t namespace_inode(int fd) {
  struct stat info {};
  EXPECT_EQ(::fstat(fd, &info), 0);
  return info.st_ino;
}

ino_t current_thread_namespace() {
  struct stat info {};
  EXPECT_EQ(::stat("/proc/thread-self/ns/net", &info), 0);
  return info.st_ino;
}

TEST(NetNamespace, TheSameBridgeNameLivesInTwoNamespacesAndNotOnTheHost) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  RouteSocket host = RouteSocket::open();
  const bool host_had_lan = link_exists(host, "lan");
  const ino_t host_namespace = current_thread_namespace();

  const NetNamespace first = NetNamespace::create();
  const NetNamespace second = NetNamespace::create();
  EXPECT_NE(namespace_inode(first.fd()), namespace_inode(second.fd()));
  EXPECT_NE(namespace_inode(first.fd()), host_namespace);

  {
    const Bridge one = Bridge::create(first, "lan");
    const Bridge two = Bridge::create(second, "lan");
    EXPECT_TRUE(link_state(first.route(), "lan").up);
    EXPECT_TRUE(link_exists(second.route(), "lan"));
    EXPECT_EQ(link_exists(host, "lan"), host_had_lan);
    // The calling thread never moved.
    EXPECT_EQ(current_thread_namespace(), host_namespace);
  }
  // The Bridge objects deleted their bridges.
  EXPECT_FALSE(link_exists(first.route(), "lan"));
  EXPECT_FALSE(link_exists(second.route(), "lan"));
}

TEST(NetNamespace, RunInsideRunsOnAThreadInTheNamespaceAndPassesResultsAndErrors) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const NetNamespace ns = NetNamespace::create();
  const ino_t inside = ns.run_inside([] { return current_thread_namespace(); });
  EXPECT_EQ(inside, namespace_inode(ns.fd()));
  EXPECT_NE(current_thread_namespace(), inside);
  EXPECT_THROW(ns.run_inside([]() -> int { throw std::logic_error("from inside"); }), std::logic_error);
  // IPv6 is off for links made in the namespace, so bridges stay quiet.
  const char value = ns.run_inside([] {
    char byte = 0;
    const int fd = ::open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (::read(fd, &byte, 1) != 1) byte = 0;
      ::close(fd);
    }
    return byte;
  });
  if (value != 0) {
    EXPECT_EQ(value, '1');
  }
}

TEST(NetNamespace, DuplicateAndBadBridgeNamesAreRefusedWithTheName) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const NetNamespace ns = NetNamespace::create();
  const Bridge lan = Bridge::create(ns, "lan");
  try {
    Bridge::create(ns, "lan");
    ADD_FAILURE() << "a second `lan` was made";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("bridge `lan`: create:"), std::string::npos) << error.what();
  }
  EXPECT_THROW(Bridge::create(ns, "much-too-long-name"), std::invalid_argument);
}

// A child makes a namespace with a veth whose peer sits in a namespace we
// keep, then dies by SIGKILL without running any destructor: the kernel
// still removes its namespace, and with it the pair, peer included.
TEST(NetNamespace, ACrashedOwnerLeavesNothingBehind) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const NetNamespace survivor = NetNamespace::create();
  int ready[2];
  int go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(go[1]);
    try {
      const NetNamespace doomed = NetNamespace::create();
      const Bridge lan = Bridge::create(doomed, "lan");
      // Leaked on purpose: no destructor will delete the pair.
      new VethPair(VethPair::create(doomed, "uplink", survivor.fd(), "crash-peer"));
      const char ok = 'y';
      if (::write(ready[1], &ok, 1) != 1) _exit(2);
      char release = 0;
      if (::read(go[0], &release, 1) != 1) _exit(3);
    } catch (...) {
      _exit(4);
    }
    ::kill(::getpid(), SIGKILL);
    _exit(5);
  }
  ::close(ready[1]);
  ::close(go[0]);
  char ok = 0;
  const bool child_ready = ::read(ready[0], &ok, 1) == 1 && ok == 'y';
  ::close(ready[0]);
  const bool peer_was_there = link_exists(survivor.route(), "crash-peer");
  const char release = 'g';
  EXPECT_EQ(::write(go[1], &release, 1), 1);  // the child then kills itself
  ::close(go[1]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(child_ready) << "the child could not set up its namespace";
  EXPECT_TRUE(peer_was_there);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  // Namespace teardown runs in a kernel worker: poll, with a generous deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (link_exists(survivor.route(), "crash-peer") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(link_exists(survivor.route(), "crash-peer"));
}

}  // namespace
}  // namespace provium::netsetup
