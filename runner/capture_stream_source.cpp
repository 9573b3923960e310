#include "capture_stream_source.h"

namespace provium::runner {

std::optional<std::string> CaptureStreamSource::read(std::size_t max, Deadline wait) {
  if (!connection_) return std::string();
  auto data = connection_->read(max, wait.earliest(clock_.deadline()));
  if (!data) {
    if (clock_.note_if_expired()) clock_.fire();  // the test's deadline passing is not "nothing yet"
    return std::nullopt;
  }
  if (data->empty()) ended_ = true;
  return data;
}

}  // namespace provium::runner
