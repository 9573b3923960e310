#include "datapath_choice.h"

#include "user_file_network.h"

namespace provium {

std::optional<NetDatapath> parse_net_datapath(std::string_view text) {
  if (text == "auto") return NetDatapath::automatic;
  if (text == "user") return NetDatapath::user;
  if (text == "kernel") return NetDatapath::kernel;
  return std::nullopt;
}

const char* to_string(NetDatapath datapath) {
  switch (datapath) {
    case NetDatapath::automatic: return "auto";
    case NetDatapath::user: return "user";
    case NetDatapath::kernel: return "kernel";
  }
  return "auto";
}

NetDatapath resolve_net_datapath(NetDatapath wanted) {
  // Until the kernel datapath is in this build, auto means user.
  return wanted == NetDatapath::automatic ? NetDatapath::user : wanted;
}

std::unique_ptr<net::FileNetwork> make_file_network(NetDatapath datapath) {
  switch (resolve_net_datapath(datapath)) {
    case NetDatapath::kernel:
      throw net::NetworkError("the kernel datapath (--net kernel) is not available in this build; use --net user");
    case NetDatapath::user:
    case NetDatapath::automatic:
      break;
  }
  return std::make_unique<net::UserFileNetwork>();
}

}  // namespace provium
