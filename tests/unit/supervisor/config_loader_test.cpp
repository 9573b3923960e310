#include "config_loader.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "bundled_guest.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

Config parse(const std::string& text) { return parse_config(text, "provium.toml", "/project"); }

// The error for `text`, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

constexpr const char* kProfile = R"(
[profiles.fast]
kernel = "k/bzImage"
initrd = "/abs/initrd.cpio"
cmdline = "console=ttyS0 quiet"
)";

TEST(ConfigLoader, EmptyTextIsAnEmptyConfig) {
  const Config config = parse("");
  EXPECT_TRUE(config.roots.empty());
  EXPECT_TRUE(config.profiles.empty());
  EXPECT_EQ(config.cache_max_size, 20ull << 30);
}

TEST(ConfigLoader, ReadsEveryField) {
  const Config config = parse(R"(
[provium]
roots = ["tests", "/abs/more"]
cache_dir = "cache"
cache_max_size = "100G"

[profiles.fast]
kernel = "k/bzImage"
initrd = "/abs/initrd.cpio"
cmdline = "console=ttyS0 quiet"
guest_os = "linux"
inject_agent = false
agent_overlay_path = "overlay.cpio"
memory = "512M"
cpus = 2
)");
  EXPECT_EQ(config.roots, (std::vector<fs::path>{"/project/tests", "/abs/more"}));
  EXPECT_EQ(config.cache_dir, fs::path("/project/cache"));
  EXPECT_EQ(config.cache_max_size, 100ull << 30);
  const Profile* fast = config.find_profile("fast");
  ASSERT_NE(fast, nullptr);
  EXPECT_EQ(fast->kernel, fs::path("/project/k/bzImage"));
  EXPECT_EQ(fast->initrd, fs::path("/abs/initrd.cpio"));
  EXPECT_EQ(fast->cmdline, "console=ttyS0 quiet");
  EXPECT_FALSE(fast->inject_agent);
  EXPECT_EQ(fast->agent_overlay, fs::path("/project/overlay.cpio"));
  EXPECT_EQ(fast->memory_bytes, 512ull << 20);
  EXPECT_EQ(fast->cpus, 2u);
}

TEST(ConfigLoader, ProfileDefaults) {
  const Config config = parse(kProfile);  // the profile lives in it
  const Profile& fast = *config.find_profile("fast");
  EXPECT_EQ(fast.guest_os, "linux");
  EXPECT_TRUE(fast.inject_agent);
  EXPECT_EQ(fast.memory_bytes, 256ull << 20);
  EXPECT_EQ(fast.cpus, 1u);
  EXPECT_FALSE(fast.agent_overlay);
}

TEST(ConfigLoader, IntegerSizesAreBytes) {
  EXPECT_EQ(parse("[provium]\ncache_max_size = 1048576\n").cache_max_size, 1048576u);
}

TEST(ConfigLoader, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("[profiles.fast]\nkernel = \"k\"\ninitrd = \"i\"\ncmdline = \"  \"\n"),
            "provium.toml:4: profiles.fast.cmdline: must not be empty");
  EXPECT_EQ(error_of("[profiles.fast]\nkernel = \"k\"\ninitrd = \"i\"\ncmdline = \"c\"\nguest_os = \"windows\"\n"),
            "provium.toml:5: profiles.fast.guest_os: \"windows\" is not supported (only \"linux\")");
  EXPECT_EQ(error_of("\n[profiles.fast]\nkernel = \"k\"\ncmdline = \"c\"\n"),
            "provium.toml:2: profiles.fast.initrd: is required");
  EXPECT_EQ(error_of("[profiles.fast]\nkernel = 3\ninitrd = \"i\"\ncmdline = \"c\"\n"),
            "provium.toml:2: profiles.fast.kernel: must be a string");
  EXPECT_EQ(error_of("[profiles.fast]\nkernel = \"\"\ninitrd = \"i\"\ncmdline = \"c\"\n"),
            "provium.toml:2: profiles.fast.kernel: must not be empty");
}

TEST(ConfigLoader, ValueChecks) {
  const std::string base = std::string(kProfile);
  EXPECT_EQ(error_of(base + "memory = \"lots\"\n").rfind("provium.toml:6: profiles.fast.memory: ", 0), 0u);
  EXPECT_EQ(error_of(base + "memory = \"32M\"\n"), "provium.toml:6: profiles.fast.memory: must be between 64M and 16G");
  EXPECT_EQ(error_of(base + "memory = \"17G\"\n"), "provium.toml:6: profiles.fast.memory: must be between 64M and 16G");
  EXPECT_EQ(error_of(base + "cpus = 0\n"), "provium.toml:6: profiles.fast.cpus: must be an integer between 1 and 256");
  EXPECT_EQ(error_of(base + "cpus = \"2\"\n"),
            "provium.toml:6: profiles.fast.cpus: must be an integer between 1 and 256");
  EXPECT_EQ(error_of(base + "inject_agent = \"yes\"\n"),
            "provium.toml:6: profiles.fast.inject_agent: must be true or false");
  EXPECT_EQ(error_of("[provium]\ncache_max_size = \"20 gigs\"\n").rfind("provium.toml:2: provium.cache_max_size: ", 0),
            0u);
  EXPECT_EQ(error_of("[provium]\ncache_max_size = -1\n"), "provium.toml:2: provium.cache_max_size: must not be negative");
  EXPECT_EQ(error_of("[provium]\nroots = \"tests\"\n"), "provium.toml:2: provium.roots: must be an array of strings");
  EXPECT_EQ(error_of("[provium]\nroots = [1]\n"), "provium.toml:2: provium.roots: must be a string");
  EXPECT_EQ(error_of("provium = 1\n"), "provium.toml:1: provium: must be a table");
  EXPECT_EQ(error_of("[profiles]\nfast = 1\n"), "provium.toml:2: profiles.fast: must be a table");
}

TEST(ConfigLoader, UnknownKeysAreErrors) {
  EXPECT_EQ(error_of("[provium]\nroot = []\n").rfind("provium.toml:2: provium.root: unknown key (expected one of: ", 0),
            0u);
  EXPECT_EQ(error_of("\n\n[surprise]\n").rfind("provium.toml:3: surprise: unknown key", 0), 0u);
  const std::string typo = error_of(std::string(kProfile) + "kernal = \"x\"\n");
  EXPECT_EQ(typo.rfind("provium.toml:6: profiles.fast.kernal: unknown key (expected one of: ", 0), 0u) << typo;
  EXPECT_NE(typo.find("kernel"), std::string::npos);
}

TEST(ConfigLoader, BadProfileNames) {
  EXPECT_EQ(error_of("[profiles.\"a b\"]\nkernel = \"k\"\ninitrd = \"i\"\ncmdline = \"c\"\n")
                .rfind("provium.toml:1: profiles.a b: a profile name may only use", 0),
            0u);
}

TEST(ConfigLoader, ParseErrorsGiveLineAndColumn) {
  const std::string error = error_of("[provium]\nroots = [\"a\"\n");
  EXPECT_EQ(error.rfind("provium.toml:", 0), 0u);
  EXPECT_NE(error.find("invalid TOML"), std::string::npos) << error;
}

TEST(ConfigLoader, MissingDefaultFileIsFineButExplicitIsNot) {
  const fs::path missing = fs::temp_directory_path() / "provium-no-such-config.toml";
  EXPECT_FALSE(load_config(missing, false).file.has_value());
  try {
    load_config(missing, true);
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot read config"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find(missing.string()), std::string::npos);
  }
}

TEST(ConfigLoader, LoadsFromDiskRelativeToTheFile) {
  const fs::path dir = fs::temp_directory_path() / ("provium-config-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "provium.toml") << "[provium]\nroots = [\"tests\"]\n";
  const Config config = load_config(dir / "provium.toml", true);
  EXPECT_EQ(config.roots, (std::vector<fs::path>{dir / "tests"}));
  EXPECT_EQ(config.file, dir / "provium.toml");
  fs::remove_all(dir);
}

TEST(BuiltinProfile, AddedUnlessDefined) {
  Config config;
  const Located nowhere{std::nullopt, {"/nowhere/guest"}};
  add_builtin_default_profile(config, std::nullopt, nowhere);
  ASSERT_NE(config.find_profile("default"), nullptr);
  ASSERT_TRUE(config.find_profile("default")->unavailable.has_value());
  EXPECT_NE(config.find_profile("default")->unavailable->find("/nowhere/guest"), std::string::npos);

  Config with_guest;
  BundledGuest guest{"/g", "/g/vmlinux", "/g/initramfs.cpio", "/g/agent-overlay.cpio", "console=ttyS0"};
  add_builtin_default_profile(with_guest, guest, Located{fs::path("/g"), {"/g"}});
  const Profile& profile = *with_guest.find_profile("default");
  EXPECT_FALSE(profile.unavailable);
  EXPECT_FALSE(profile.inject_agent);
  EXPECT_EQ(profile.kernel, fs::path("/g/vmlinux"));

  Config user = parse("[profiles.default]\nkernel = \"k\"\ninitrd = \"i\"\ncmdline = \"c\"\n");
  add_builtin_default_profile(user, guest, Located{fs::path("/g"), {"/g"}});
  EXPECT_EQ(user.find_profile("default")->kernel, fs::path("/project/k"));
}

}  // namespace
}  // namespace provium
