// Interface names: what is accepted, and that refusals say what and why.
#include "interface_name.h"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

namespace provium::netsetup {
namespace {

std::string refusal(const std::string& name) {
  try {
    check_interface_name(name, "bridge name");
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(InterfaceName, AcceptsShortPlainNames) {
  for (const std::string name : {"lan", "tap-a", "br_0", "v.1", "abcdefghijklmno"}) {
    EXPECT_EQ(refusal(name), "") << name;
  }
}

TEST(InterfaceName, RefusalsNameWhatAndWhy) {
  EXPECT_EQ(refusal(""), "bridge name is empty");
  EXPECT_EQ(refusal("abcdefghijklmnop"), "bridge name `abcdefghijklmnop` is too long: 16 characters, at most 15");
  EXPECT_EQ(refusal(".."), "bridge name `..` is reserved");
  EXPECT_EQ(refusal("a b"), "bridge name `a b` has a character outside [A-Za-z0-9_.-]: byte 0x20");
  EXPECT_EQ(refusal("a\"b"), "bridge name `a\"b` has a character outside [A-Za-z0-9_.-]: '\"'");
  EXPECT_EQ(refusal("eth*"), "bridge name `eth*` has a character outside [A-Za-z0-9_.-]: '*'");
}

}  // namespace
}  // namespace provium::netsetup
