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

// What `auto` resolves to on this host: "user" or "kernel".
NetDatapath resolve_net_datapath(NetDatapath wanted);

// A fresh, empty network for one test file. Throws net::NetworkError when
// the datapath cannot be used here.
std::unique_ptr<net::FileNetwork> make_file_network(NetDatapath datapath);

}  // namespace provium
