#include "qmp_client.h"

#include <fmt/format.h>
#include "kj_error.h"

namespace provium {
namespace {

constexpr std::size_t kMaxLine = 1 << 20;

}  // namespace

QmpClient::QmpClient(kj::Own<kj::AsyncCapabilityStream> stream)
    : stream_(kj::mv(stream)), chunk_(kj::heapArray<kj::byte>(4096)) {}

kj::Promise<std::string> QmpClient::read_line() {
  const auto newline = pending_.find('\n');
  if (newline != std::string::npos) {
    std::string line = pending_.substr(0, newline);
    pending_.erase(0, newline + 1);
    return line;
  }
  if (pending_.size() > kMaxLine) throw_kj_error("QMP: reply line too long");
  return stream_->tryRead(chunk_.begin(), 1, chunk_.size()).then([this](size_t got) -> kj::Promise<std::string> {
    if (got == 0) throw_kj_error("QMP: QEMU closed the monitor connection");
    pending_.append(reinterpret_cast<const char*>(chunk_.begin()), got);
    return read_line();
  });
}

kj::Promise<nlohmann::json> QmpClient::next_reply() {
  return read_line().then([this](std::string line) -> kj::Promise<nlohmann::json> {
    auto message = nlohmann::json::parse(line, nullptr, false);
    if (message.is_discarded()) throw_kj_error("QMP: unparsable reply: " + line.substr(0, 200));
    if (message.contains("event")) return next_reply();
    if (message.contains("error")) {
      throw_kj_error("QMP error: " + message["error"].value("desc", std::string("unknown")));
    }
    return kj::mv(message);
  });
}

kj::Promise<void> QmpClient::send(const std::string& command, const nlohmann::json& arguments) {
  nlohmann::json message{{"execute", command}};
  if (!arguments.empty()) message["arguments"] = arguments;
  auto text = kj::heapString(message.dump() + "\n");
  // evalNow: a write to a QEMU that is gone throws at once; make it this call's rejection.
  auto write = kj::evalNow([&] { return stream_->write(text.begin(), text.size()); });
  return write.attach(kj::mv(text));
}

kj::Promise<nlohmann::json> QmpClient::execute(const std::string& command, const nlohmann::json& arguments) {
  return send(command, arguments).then([this]() { return next_reply(); }).then([](nlohmann::json reply) {
    return reply.contains("return") ? reply["return"] : nlohmann::json();
  });
}

kj::Promise<nlohmann::json> QmpClient::execute_with_fd(const std::string& command, const nlohmann::json& arguments,
                                                       int fd) {
  nlohmann::json message{{"execute", command}, {"arguments", arguments}};
  auto text = kj::heapString(message.dump() + "\n");
  auto fds = kj::heapArray<int>({fd});
  auto write = kj::evalNow([&] {
    return stream_->writeWithFds(text.asBytes(), nullptr, fds.asPtr());
  });
  return write.attach(kj::mv(text), kj::mv(fds))
      .then([this]() { return next_reply(); })
      .then([](nlohmann::json reply) { return reply.contains("return") ? reply["return"] : nlohmann::json(); });
}

kj::Promise<void> QmpClient::handshake() {
  return next_reply()
      .then([this](nlohmann::json greeting) {
        if (!greeting.contains("QMP")) throw_kj_error("QMP: unexpected greeting");
        return execute("qmp_capabilities");
      })
      .ignoreResult();
}

}  // namespace provium
