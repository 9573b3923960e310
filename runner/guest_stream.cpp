#include "guest_stream.h"

#include <stdexcept>

namespace provium::runner {
namespace {

// One agent stream of a VM: reads, endings and close go through the Vm, which
// maps agent failures and the test's deadline.
class AgentStreamSource final : public StreamSource {
 public:
  AgentStreamSource(std::shared_ptr<Vm> vm, StreamKey key, std::string what)
      : vm_(std::move(vm)), key_(key), what_(std::move(what)), epoch_(vm_->agent_epoch()) {}

  // A stream of an agent session that was replaced (reset) has ended.
  std::optional<std::string> read(std::size_t max, Deadline wait) override {
    if (stale()) return std::string();
    return vm_->stream_read(what_, key_, max, wait);
  }
  bool ended() override { return stale() || vm_->stream_ending(key_).has_value(); }
  std::string failure() override {
    if (stale()) return "the VM was reset";
    const auto ending = vm_->stream_ending(key_);
    return ending && ending->failed ? "read failed: " + ending->message : std::string();
  }
  void close() override {
    if (!stale()) vm_->stream_close(what_, key_);
  }

 private:
  bool stale() const { return vm_->agent_epoch() != epoch_; }

  std::shared_ptr<Vm> vm_;
  StreamKey key_;
  std::string what_;
  std::uint64_t epoch_;
};

}  // namespace

GuestStream::GuestStream(std::shared_ptr<Vm> vm, StreamKey key, std::string kind, std::string detail)
    : owner_(vm->name()), kind_(std::move(kind)), detail_(std::move(detail)), vm_(vm) {
  source_ = std::make_unique<AgentStreamSource>(std::move(vm), key, what());
}

std::string describe_opened(const std::string& what, const std::optional<CallSite>& site) {
  if (!site) return what;
  return what + " (opened at " + site->file + ":" + std::to_string(site->line) + ")";
}

GuestStream::~GuestStream() {
  // Collected while open: release the source (an agent stream's credit window).
  try {
    close();
  } catch (const std::exception&) {
  }
}

void GuestStream::fail(const std::string& message) const {
  throw std::runtime_error("vm `" + owner_ + "`: " + what() + ": " + message);
}

std::optional<std::string> GuestStream::next(std::chrono::milliseconds wait) {
  if (closed_) return std::nullopt;
  if (!pending_.empty()) return std::exchange(pending_, std::string());
  auto data = source_->read(kStreamChunkMax, Deadline::after(wait));
  if (!data || data->empty()) return std::nullopt;
  return data;
}

std::string GuestStream::read_until(const std::string& pattern, std::chrono::milliseconds wait) {
  if (closed_) fail(kind_ == "console" ? "read_until: console closed" : "read_until: stream closed");
  if (pattern.empty()) fail("read_until: the pattern is empty");
  const Deadline deadline = Deadline::after(wait);
  std::size_t searched_from = 0;
  for (;;) {
    if (const auto at = pending_.find(pattern, searched_from); at != std::string::npos) {
      std::string prefix = pending_.substr(0, at + pattern.size());
      pending_.erase(0, at + pattern.size());
      return prefix;
    }
    if (pending_.size() >= pattern.size()) searched_from = pending_.size() - pattern.size() + 1;
    if (pending_.size() > kReadUntilLimit) {
      fail("read_until: no `" + pattern + "` in the first " + std::to_string(kReadUntilLimit) + " bytes");
    }
    auto data = source_->read(kStreamChunkMax, deadline);
    if (!data) fail("read_until timed out waiting for `" + pattern + "`");
    if (data->empty()) {
      std::string why = "stream EOF";
      if (const std::string failure = source_->failure(); !failure.empty()) why += " (" + failure + ")";
      fail("read_until `" + pattern + "`: " + why);
    }
    pending_ += *data;
  }
}

std::vector<std::string> GuestStream::drain(std::chrono::milliseconds wait) {
  std::vector<std::string> frames;
  if (closed_) return frames;
  const Deadline deadline = Deadline::after(wait);
  if (!pending_.empty()) frames.push_back(std::exchange(pending_, std::string()));
  for (;;) {
    auto data = source_->read(kStreamChunkMax, deadline);
    if (!data || data->empty()) return frames;
    frames.push_back(std::move(*data));
  }
}

void GuestStream::close() {
  if (closed_) return;
  closed_ = true;
  pending_.clear();  // a next() after close must not see stale bytes
  source_->close();
}

bool GuestStream::eof() {
  if (closed_) return pending_.empty();
  if (!pending_.empty()) return false;
  if (!source_->ended()) return false;
  // Ended at the source; honest only once everything buffered was read.
  auto data = source_->read(kStreamChunkMax, Deadline::after(std::chrono::milliseconds(0)));
  if (data && !data->empty()) {
    pending_ = std::move(*data);
    return false;
  }
  return true;
}

}  // namespace provium::runner
