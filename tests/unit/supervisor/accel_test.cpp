#include "accel.h"

#include <gtest/gtest.h>

namespace provium {
namespace {

HostAccelFacts good_kvm() { return {.kvm_opens = true, .kvm_api_version = 12, .nested_pvm = false}; }

TEST(Accel, AutoUsesWorkingKvm) {
  const auto decision = decide_accel(AccelChoice::automatic, good_kvm());
  EXPECT_TRUE(decision.usable);
  EXPECT_EQ(decision.accel, Accel::kvm);
}

TEST(Accel, AutoFallsBackToTcgAndSaysWhy) {
  HostAccelFacts pvm = good_kvm();
  pvm.nested_pvm = true;
  auto decision = decide_accel(AccelChoice::automatic, pvm);
  EXPECT_TRUE(decision.usable);
  EXPECT_EQ(decision.accel, Accel::tcg);
  EXPECT_EQ(decision.message,
            "provium: using TCG (software emulation): /dev/kvm belongs to a nested PVM hypervisor that cannot boot a "
            "stock guest kernel");

  decision = decide_accel(AccelChoice::automatic, {.kvm_opens = false, .kvm_open_error = "No such file or directory"});
  EXPECT_EQ(decision.accel, Accel::tcg);
  EXPECT_NE(decision.message.find("/dev/kvm cannot be opened read-write: No such file or directory"), std::string::npos);

  HostAccelFacts old_api = good_kvm();
  old_api.kvm_api_version = 11;
  decision = decide_accel(AccelChoice::automatic, old_api);
  EXPECT_EQ(decision.accel, Accel::tcg);
  EXPECT_NE(decision.message.find("KVM_GET_API_VERSION returned 11, expected 12"), std::string::npos);
}

TEST(Accel, ExplicitKvmThatCannotWorkIsAnError) {
  HostAccelFacts pvm = good_kvm();
  pvm.nested_pvm = true;
  const auto decision = decide_accel(AccelChoice::kvm, pvm);
  EXPECT_FALSE(decision.usable);
  EXPECT_NE(decision.message.find("--accel kvm"), std::string::npos);
  EXPECT_NE(decision.message.find("nested PVM"), std::string::npos);
  EXPECT_TRUE(decide_accel(AccelChoice::kvm, good_kvm()).usable);
}

TEST(Accel, ExplicitTcgIgnoresKvm) {
  const auto decision = decide_accel(AccelChoice::tcg, good_kvm());
  EXPECT_EQ(decision.accel, Accel::tcg);
  EXPECT_TRUE(decision.usable);
}

TEST(Accel, ProbeOnThisHostDoesNotThrow) {
  const HostAccelFacts facts = probe_host_accel();
  if (facts.kvm_opens) {
    EXPECT_GT(facts.kvm_api_version, 0);
  }
}

}  // namespace
}  // namespace provium
