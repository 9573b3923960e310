#include "fixture_dependency_scan.h"
#include "fixture_key.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace provium {
namespace {

FixtureKeyInputs base_inputs() {
  FixtureKeyInputs inputs;
  inputs.fixture_source = "local vm = provium:vm('a', 'default'):boot()\nreturn vm:snapshot()\n";
  inputs.helper_sources = {{"helpers.setup", "return {}"}};
  inputs.profile_images = {{"default", {.kernel = "k1", .initrd = "i1"}}, {"other", {.kernel = "k2", .initrd = "i2"}}};
  inputs.host_files = {{.path = "/src/bin/tool", .mtime_ns = 5, .size = 10}};
  inputs.agent_protocol_version = 1;
  inputs.runner_protocol_version = 1;
  return inputs;
}

TEST(FixtureKey, IsAStableHexDigest) {
  const std::string key = fixture_key(base_inputs());
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(fixture_key(base_inputs()), key);
}

TEST(FixtureKey, EveryInputChangesIt) {
  const std::string key = fixture_key(base_inputs());
  std::vector<std::pair<const char*, FixtureKeyInputs>> variants;
  auto vary = [&](const char* what, auto change) {
    FixtureKeyInputs inputs = base_inputs();
    change(inputs);
    variants.emplace_back(what, inputs);
  };
  vary("source", [](auto& in) { in.fixture_source += " "; });
  vary("nested fixture", [](auto& in) { in.nested_fixture_keys.push_back(std::string(64, 'a')); });
  vary("helper source", [](auto& in) { in.helper_sources["helpers.setup"] = "return { x = 1 }"; });
  vary("helper added", [](auto& in) { in.helper_sources["helpers.more"] = ""; });
  vary("kernel", [](auto& in) { in.profile_images["other"].kernel = "k3"; });
  vary("initrd", [](auto& in) { in.profile_images["default"].initrd = "i9"; });
  vary("profile added", [](auto& in) { in.profile_images["third"] = {}; });
  vary("host file mtime", [](auto& in) { in.host_files[0].mtime_ns = 6; });
  vary("host file size", [](auto& in) { in.host_files[0].size = 11; });
  vary("agent protocol", [](auto& in) { in.agent_protocol_version = 2; });
  vary("runner protocol", [](auto& in) { in.runner_protocol_version = 2; });
  // Framing: moving bytes between neighbouring fields must not collide.
  vary("framing", [](auto& in) {
    in.profile_images["default"].kernel = "k1i";
    in.profile_images["default"].initrd = "1";
  });
  for (const auto& [what, inputs] : variants) EXPECT_NE(fixture_key(inputs), key) << what;
}

TEST(FixtureKey, DescribesAHostFile) {
  const auto path = std::filesystem::temp_directory_path() / "provium-fixture-key-test";
  std::ofstream(path) << "12345";
  const HostFileDependency file = describe_host_file(path.string());
  EXPECT_EQ(file.size, 5u);
  EXPECT_GT(file.mtime_ns, 0);
  std::filesystem::remove(path);
  try {
    describe_host_file(path.string());
    FAIL() << "expected an error";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(FixtureDependencyScan, FindsLiteralPushFileAndDependsOnFile) {
  const auto found = scan_fixture_dependencies(R"lua(
local vm = provium:vm("a", "default"):boot()
vm:push_file("../bin/tool", "/usr/bin/tool")
vm:push_file('conf/a.conf', "/etc/a.conf", {mode = 420})
provium:depends_on_file("../templates/x.in")
provium:lab("dc1"):depends_on_file [[data/long.bin]]
return vm:snapshot()
)lua");
  ASSERT_EQ(found.size(), 4u);
  EXPECT_EQ(found[0].path, "../bin/tool");
  EXPECT_EQ(found[0].line, 3);
  EXPECT_EQ(found[1].path, "conf/a.conf");
  EXPECT_EQ(found[2].path, "../templates/x.in");
  EXPECT_EQ(found[3].path, "data/long.bin");
  EXPECT_EQ(found[3].line, 6);
}

TEST(FixtureDependencyScan, HonoursOnlyALiteralAutoDepFalse) {
  const auto found = scan_fixture_dependencies(R"lua(
vm:push_file("../big-corpus.tar", "/data.tar", {auto_dep = false})
vm:push_file("tracked.tar", "/t.tar", {auto_dep = x})
vm:push_file("also-tracked", "/a", {auto_dep = true})
)lua");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].path, "tracked.tar");
  EXPECT_EQ(found[1].path, "also-tracked");
}

TEST(FixtureDependencyScan, IgnoresCommentsStringsAndNonLiterals) {
  const auto found = scan_fixture_dependencies(R"lua(
-- vm:push_file("commented.bin", "/x")
--[[ vm:push_file("block-commented.bin", "/x") ]]
--[==[ provium:depends_on_file("level-two") ]==]
local s = "vm:push_file('inside a string', '/x')"
vm:push_file(path_variable, "/x")
vm:push_file("build/" .. arch, "/bin/foo")
push_file("not a method call", "/x")
vm:push_file("escaped \"quote\"", "/x")
)lua");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].path, "escaped \"quote\"");
}

}  // namespace
}  // namespace provium
