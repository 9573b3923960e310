#include "module_resolver.h"

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string error_of(const std::string& name, const std::vector<fs::path>& roots) {
  try {
    resolve_module(name, roots);
  } catch (const ModuleError& error) {
    return error.what();
  }
  return "";
}

class ModuleResolver : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("root/helpers/net.lua", "return 'net'");
    dir_.write("root/helpers/pkg/init.lua", "return 'pkg'");
    dir_.write("second/extra.lua", "return 'extra'");
    dir_.write("outside/secret.lua", "return 'secret'");
    fs::create_symlink(dir_.path() / "outside/secret.lua", dir_.path() / "root/escape.lua");
    fs::create_directory_symlink(dir_.path() / "outside", dir_.path() / "root/linkdir");
    fs::create_symlink(dir_.path() / "root/helpers/net.lua", dir_.path() / "root/inside.lua");
    roots_ = {dir_.path() / "root", dir_.path() / "second"};
  }
  TempDir dir_;
  std::vector<fs::path> roots_;
};

TEST_F(ModuleResolver, DotsAreDirectories) {
  const auto module = resolve_module("helpers.net", roots_);
  EXPECT_EQ(module.source, "return 'net'");
  EXPECT_EQ(module.path, dir_.path() / "root/helpers/net.lua");
  EXPECT_EQ(resolve_module("helpers/net", roots_).source, "return 'net'");
}

TEST_F(ModuleResolver, InitLuaAndLaterRoots) {
  EXPECT_EQ(resolve_module("helpers.pkg", roots_).source, "return 'pkg'");
  EXPECT_EQ(resolve_module("extra", roots_).source, "return 'extra'");
}

TEST_F(ModuleResolver, SymlinksInsideTheRootAreFine) {
  EXPECT_EQ(resolve_module("inside", roots_).source, "return 'net'");
}

TEST_F(ModuleResolver, RefusesSymlinksOutOfTheRoot) {
  EXPECT_NE(error_of("escape", roots_).find("outside the root"), std::string::npos);
  EXPECT_NE(error_of("linkdir.secret", roots_).find("outside the root"), std::string::npos);
}

TEST_F(ModuleResolver, RefusesEscapingNames) {
  EXPECT_NE(error_of("..", roots_).find("`..` is not allowed"), std::string::npos);
  EXPECT_NE(error_of("../outside/secret", roots_).find("`..` is not allowed"), std::string::npos);
  EXPECT_NE(error_of("helpers/../../outside/secret", roots_).find("`..`"), std::string::npos);
  EXPECT_NE(error_of("/etc/passwd", roots_).find("not a relative module name"), std::string::npos);
  EXPECT_NE(error_of(".hidden", roots_).find("not a relative module name"), std::string::npos);
  EXPECT_NE(error_of("a//b", roots_).find("not a relative module name"), std::string::npos);
  EXPECT_NE(error_of("x y", roots_).find("may only use"), std::string::npos);
  EXPECT_NE(error_of(std::string("a\0b", 3), roots_).find("may only use"), std::string::npos);
  EXPECT_NE(error_of("", roots_).find("empty module name"), std::string::npos);
  EXPECT_NE(error_of(std::string(300, 'a'), roots_).find("limit"), std::string::npos);
}

TEST_F(ModuleResolver, NotFoundListsEveryPlaceSearched) {
  const std::string error = error_of("missing.mod", roots_);
  EXPECT_NE(error.find("module `missing.mod` not found"), std::string::npos) << error;
  EXPECT_NE(error.find((dir_.path() / "root/missing/mod.lua").string()), std::string::npos) << error;
  EXPECT_NE(error.find((dir_.path() / "second/missing/mod/init.lua").string()), std::string::npos) << error;
}

TEST_F(ModuleResolver, SizeCap) {
  dir_.write("root/big.lua", std::string(2000, 'x'));
  try {
    resolve_module("big", roots_, 1000);
    FAIL();
  } catch (const ModuleError& error) {
    EXPECT_NE(std::string(error.what()).find("over the limit"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace provium
