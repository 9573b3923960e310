// Boots the bundled guest through VmLauncher/QemuVm directly (no runner) and
// watches the console. Skipped when the guest has not been built.
#include <gtest/gtest.h>

#include "bundled_guest.h"
#include "qemu_vm.h"
#include "subprocess.h"
#include "vm_launcher.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

std::optional<BundledGuest> find_guest() {
  const char* dir = std::getenv("PROVIUM_GUEST_DIR");
  if (!dir) return std::nullopt;
  return load_bundled_guest(find_bundled_guest_dir(executable_dir()));  // PROVIUM_GUEST_DIR wins
}

// Polls the event loop until `done` or `limit` passes.
bool wait_for(kj::AsyncIoContext& io, const std::function<bool()>& done, kj::Duration limit) {
  auto& timer = io.provider->getTimer();
  const auto deadline = timer.now() + limit;
  while (!done() && timer.now() < deadline) timer.afterDelay(50 * kj::MILLISECONDS).wait(io.waitScope);
  return done();
}

TEST(QemuVm, BootsTheBundledGuestAndShowsItsConsole) {
  const auto guest = find_guest();
  const auto qemu = find_program("qemu-system-x86_64");
  if (!guest || !qemu) GTEST_SKIP() << "needs the bundled guest (PROVIUM_GUEST_DIR) and qemu-system-x86_64";
  auto io = kj::setupAsyncIo();
  VmLauncher launcher(io, VmHostSettings{.qemu_binary = fs::path(*qemu),
                                         .accel = Accel::tcg,
                                         .privileges = plan_privilege_drop(false)});
  Profile profile{.name = "default",
                  .kernel = guest->kernel,
                  .initrd = guest->initrd,
                  // Not quiet: we want to see the kernel talk.
                  .cmdline = "console=ttyS0 loglevel=7 tsc=reliable no_timer_check tsc_early_khz=2000000 panic=-1",
                  .inject_agent = false};
  const BootPlan plan = make_boot_plan("console-test", profile, VmRequest{});
  kj::Own<QemuVm> vm = launcher.launch(plan);
  vm->wait_ready(30 * kj::SECONDS).wait(io.waitScope);
  EXPECT_TRUE(wait_for(io, [&] { return vm->console_tail(1 << 20).find("Linux version") != std::string::npos; },
                       30 * kj::SECONDS))
      << vm->console_tail(4096);
  EXPECT_TRUE(vm->running());
  vm->shutdown(5 * kj::SECONDS).wait(io.waitScope);
  EXPECT_FALSE(vm->running());
}

TEST(QemuVm, StartupFailureCarriesQemuStderr) {
  const auto qemu = find_program("qemu-system-x86_64");
  if (!qemu) GTEST_SKIP() << "needs qemu-system-x86_64";
  auto io = kj::setupAsyncIo();
  VmLauncher launcher(io, VmHostSettings{.qemu_binary = fs::path(*qemu), .accel = Accel::tcg,
                                         .privileges = plan_privilege_drop(false)});
  char kernel[] = "/tmp/provium-bad-kernel-XXXXXX";
  kj::AutoCloseFd fd(::mkstemp(kernel));
  ASSERT_EQ(::write(fd.get(), "junk", 4), 4);
  ::fchmod(fd.get(), 0644);
  Profile profile{.name = "bad", .kernel = kernel, .initrd = kernel, .cmdline = "quiet", .inject_agent = false};
  kj::Own<QemuVm> vm = launcher.launch(make_boot_plan("bad", profile, VmRequest{}));
  try {
    vm->wait_ready(30 * kj::SECONDS).wait(io.waitScope);
    ADD_FAILURE() << "junk kernel booted";
  } catch (const kj::Exception& error) {
    const std::string text = error.getDescription().cStr();
    EXPECT_NE(text.find("VM `bad`: QEMU exited during startup"), std::string::npos) << text;
    EXPECT_NE(text.find("QEMU said:"), std::string::npos) << text;
  }
  ::unlink(kernel);
}

}  // namespace
}  // namespace provium
