// Which datapath builds a file's test networks (--net kernel|user|auto), and
// the one place that turns the choice into a FileNetwork.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "file_network.h"

namespace provium {

enum class NetDatapath { automatic, user, kernel };

std::optional<NetDatapath> parse_net_datapath(std::string_view text);
const char* to_string(NetDatapath datapath);

// What `auto` resolves to on this host: kernel when this process can run the
// kernel datapath and the kernel has every impairment (netem included),
// otherwise user. Probed once per process.
NetDatapath resolve_net_datapath(NetDatapath wanted);
// One line for -v: which datapath and, for auto, why.
std::string describe_net_choice(NetDatapath wanted);

// A fresh, empty network for one test file. Throws net::NetworkError when
// the datapath cannot be used here.
std::unique_ptr<net::FileNetwork> make_file_network(NetDatapath datapath);

}  // namespace provium
