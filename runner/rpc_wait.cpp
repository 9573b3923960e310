#include "rpc_wait.h"

#include <string_view>

namespace provium::runner {

std::string describe_rpc_failure(const kj::Exception& error) {
  std::string_view text = error.getDescription().cStr();
  constexpr std::string_view kRemotePrefix = "remote exception: ";
  if (text.starts_with(kRemotePrefix)) text.remove_prefix(kRemotePrefix.size());
  if (error.getType() == kj::Exception::Type::DISCONNECTED) {
    return "lost the connection to the supervisor (" + std::string(text) + ")";
  }
  return std::string(text);
}

}  // namespace provium::runner
