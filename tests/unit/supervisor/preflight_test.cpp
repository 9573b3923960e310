#include "preflight.h"

#include <gtest/gtest.h>

namespace provium {
namespace {

PreflightFacts healthy() {
  return PreflightFacts{.qemu = "/usr/bin/qemu-system-x86_64",
                        .runner = Located{std::filesystem::path("/b/provium-runner"), {"/b/provium-runner"}},
                        .builtin_default_profile = true,
                        .guest_dir = Located{std::filesystem::path("/b/guest"), {"/b/guest"}},
                        .accel = AccelDecision{true, Accel::tcg, "provium: using TCG"}};
}

TEST(Preflight, HealthyHostPasses) {
  const auto result = check_preflight(healthy());
  EXPECT_TRUE(result.errors.empty());
  EXPECT_TRUE(result.warnings.empty());
}

TEST(Preflight, EachProblemComesWithAFix) {
  PreflightFacts facts = healthy();
  facts.qemu.reset();
  facts.runner = Located{std::nullopt, {"/b/runner/provium-runner"}};
  facts.accel = AccelDecision{false, Accel::kvm, "provium: --accel kvm: /dev/kvm cannot be opened"};
  facts.guest_dir = Located{std::nullopt, {"/b/guest"}};
  const auto result = check_preflight(facts);
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_NE(result.errors[0].find("apt install qemu-system-x86"), std::string::npos);
  EXPECT_NE(result.errors[1].find("/b/runner/provium-runner"), std::string::npos);
  EXPECT_NE(result.errors[2].find("--accel tcg"), std::string::npos);
  ASSERT_EQ(result.warnings.size(), 1u);
  EXPECT_NE(result.warnings[0].find("build-default-guest.sh"), std::string::npos);
}

TEST(Preflight, NoGuestWarningWhenTheConfigDefinesDefault) {
  PreflightFacts facts = healthy();
  facts.builtin_default_profile = false;
  facts.guest_dir = Located{std::nullopt, {"/b/guest"}};
  EXPECT_TRUE(check_preflight(facts).warnings.empty());
}

TEST(Preflight, LocalModeNeedsNoQemuNorGuest) {
  const LocalPreflightFacts facts{.runner = Located{std::filesystem::path("/b/provium-runner"), {}},
                                  .agent = Located{std::filesystem::path("/b/provium-agent"), {}},
                                  .sandbox_error = std::nullopt};
  const auto result = check_local_preflight(facts);
  EXPECT_TRUE(result.errors.empty());
  EXPECT_TRUE(result.warnings.empty());
}

TEST(Preflight, LocalModeProblemsComeWithAFix) {
  const LocalPreflightFacts facts{.runner = Located{std::nullopt, {"/b/runner/provium-runner"}},
                                  .agent = Located{std::nullopt, {"/b/agent/provium-agent"}},
                                  .sandbox_error = "unshare the user, mount and PID namespaces: Operation not permitted"};
  const auto result = check_local_preflight(facts);
  ASSERT_EQ(result.errors.size(), 3u);
  EXPECT_NE(result.errors[0].find("PROVIUM_RUNNER"), std::string::npos);
  EXPECT_NE(result.errors[1].find("/b/agent/provium-agent"), std::string::npos);
  EXPECT_NE(result.errors[1].find("PROVIUM_AGENT"), std::string::npos);
  EXPECT_NE(result.errors[2].find("Operation not permitted"), std::string::npos);
  EXPECT_NE(result.errors[2].find("user.max_user_namespaces"), std::string::npos);
}

}  // namespace
}  // namespace provium
