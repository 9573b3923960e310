// Runs an nftables script in a namespace through libnftables (the library
// the nft tool is built on; no nft process). A script is one transaction:
// all of it applies or none of it does.
#pragma once

#include <string>

#include "net_namespace.h"

namespace provium::netsetup {

// Throws std::runtime_error with `what`, nft's own error text (which quotes
// the offending line) and nothing else on failure.
void run_nft_script(const NetNamespace& ns, const std::string& script, const std::string& what);

}  // namespace provium::netsetup
