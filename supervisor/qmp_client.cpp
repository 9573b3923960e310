#include "qmp_client.h"

#include <utility>

#include <fmt/format.h>
#include "kj_error.h"

namespace provium {
namespace {

constexpr std::size_t kMaxLine = 1 << 20;
// Events nobody asked for (RTC_CHANGE, NIC_RX_FILTER_CHANGED, ...) would
// otherwise pile up for the VM's whole life.
constexpr std::size_t kKeptEvents = 32;

nlohmann::json command_message(const QmpCommand& command) {
  nlohmann::json message{{"execute", command.name}};
  if (!command.arguments.empty()) message["arguments"] = command.arguments;
  return message;
}

// A reply's "return" value; an "error" reply throws.
nlohmann::json return_value(const nlohmann::json& reply) {
  if (reply.contains("error")) {
    throw_kj_error("QMP error: " + reply["error"].value("desc", std::string("unknown")));
  }
  return reply.contains("return") ? reply["return"] : nlohmann::json();
}

std::vector<nlohmann::json> return_values(const std::vector<nlohmann::json>& replies) {
  std::vector<nlohmann::json> values;
  values.reserve(replies.size());
  for (const auto& reply : replies) values.push_back(return_value(reply));
  return values;
}

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

kj::Promise<nlohmann::json> QmpClient::next_message() {
  return read_line().then([](std::string line) {
    auto message = nlohmann::json::parse(line, nullptr, false);
    if (message.is_discarded()) throw_kj_error("QMP: unparsable reply: " + line.substr(0, 200));
    return message;
  });
}

void QmpClient::keep_event(nlohmann::json event) {
  events_.push_back(std::move(event));
  if (events_.size() > kKeptEvents) events_.pop_front();
}

kj::Promise<nlohmann::json> QmpClient::next_reply() {
  return next_message().then([this](nlohmann::json message) -> kj::Promise<nlohmann::json> {
    if (message.contains("event")) {
      keep_event(std::move(message));
      return next_reply();
    }
    return kj::mv(message);
  });
}

kj::Promise<nlohmann::json> QmpClient::next_event(const std::string& name) {
  for (auto it = events_.begin(); it != events_.end(); ++it) {
    if (it->value("event", std::string()) == name) {
      nlohmann::json event = std::move(*it);
      events_.erase(events_.begin(), it + 1);  // older ones can no longer be what anyone waits for
      return kj::mv(event);
    }
  }
  events_.clear();
  return next_message().then([this, name](nlohmann::json message) -> kj::Promise<nlohmann::json> {
    if (message.value("event", std::string()) == name) return kj::mv(message);
    if (!message.contains("event")) throw_kj_error("QMP: a reply came that no command asked for: " + message.dump());
    return next_event(name);
  });
}

kj::Promise<void> QmpClient::send(const std::string& command, const nlohmann::json& arguments) {
  return write_commands({QmpCommand{command, arguments}});
}

kj::Promise<void> QmpClient::write_commands(const std::vector<QmpCommand>& commands) {
  std::string text;
  for (const auto& command : commands) text += command_message(command).dump() + "\n";
  auto bytes = kj::heapString(text);
  // evalNow: a write to a QEMU that is gone throws at once; make it this call's rejection.
  auto write = kj::evalNow([&] { return stream_->write(bytes.begin(), bytes.size()); });
  return write.attach(kj::mv(bytes));
}

kj::Promise<std::vector<nlohmann::json>> QmpClient::collect_replies(std::size_t count,
                                                                     std::vector<nlohmann::json> so_far) {
  if (so_far.size() == count) return kj::mv(so_far);
  return next_reply().then([this, count, so_far = std::move(so_far)](nlohmann::json reply) mutable {
    so_far.push_back(std::move(reply));
    return collect_replies(count, std::move(so_far));
  });
}

kj::Promise<nlohmann::json> QmpClient::execute(const std::string& command, const nlohmann::json& arguments) {
  return send(command, arguments).then([this]() { return next_reply(); }).then([](nlohmann::json reply) {
    return return_value(reply);
  });
}

kj::Promise<std::vector<nlohmann::json>> QmpClient::execute_all(std::vector<QmpCommand> commands) {
  const std::size_t count = commands.size();
  return write_commands(commands)
      .then([this, count]() { return collect_replies(count, {}); })
      .then([](std::vector<nlohmann::json> replies) { return return_values(replies); });
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
      .then([](nlohmann::json reply) { return return_value(reply); });
}

kj::Promise<std::vector<nlohmann::json>> QmpClient::handshake(std::vector<QmpCommand> then) {
  then.insert(then.begin(), QmpCommand{"qmp_capabilities"});
  const std::size_t count = then.size();
  return write_commands(then)
      .then([this]() { return next_reply(); })
      .then([this, count](nlohmann::json greeting) {
        if (!greeting.contains("QMP")) throw_kj_error("QMP: unexpected greeting");
        return collect_replies(count, {});
      })
      .then([](std::vector<nlohmann::json> replies) {
        auto values = return_values(replies);
        values.erase(values.begin());  // qmp_capabilities' own
        return values;
      });
}

}  // namespace provium
