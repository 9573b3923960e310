// libnftables in a namespace: scripts apply there (not on the host), and a
// refused script is reported in one line that quotes the offending command.
#include "nft_script.h"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "kernel_fixture.h"

namespace provium::netsetup {
namespace {

TEST(NftScript, AppliesInTheNamespaceAndReportsRefusalsInOneLine) {
  PROVIUM_SKIP_WITHOUT_KERNEL_DATAPATH();
  const NetNamespace ns = NetNamespace::create();
  const NetNamespace other = NetNamespace::create();
  run_nft_script(ns, "add table bridge probe\n", "make table");
  // The table is in `ns` only: deleting it elsewhere fails.
  EXPECT_THROW(run_nft_script(other, "delete table bridge probe\n", "delete"), std::runtime_error);
  run_nft_script(ns, "delete table bridge probe\n", "delete");
  try {
    run_nft_script(ns, "add rule bridge missing forward drop\n", "add rule");
    ADD_FAILURE() << "a rule in a missing table was accepted";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_TRUE(message.starts_with("add rule: nftables: Error: ")) << message;
    EXPECT_NE(message.find(", in `add rule bridge missing forward drop`"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace provium::netsetup
