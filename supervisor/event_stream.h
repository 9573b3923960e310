// The run's event stream: stamps nothing itself (events carry their time),
// encodes each event once and hands the frame to every sink. A sink that
// fails is reported once on `notes` and dropped; the run goes on.
#pragma once

#include <memory>
#include <ostream>
#include <vector>

#include "event.h"
#include "event_sinks.h"

namespace provium {

class EventStream {
 public:
  explicit EventStream(std::ostream& notes) : notes_(notes) {}
  void add_sink(std::unique_ptr<EventSink> sink) { sinks_.push_back(std::move(sink)); }
  bool active() const { return !sinks_.empty(); }
  void emit(const Event& event);

 private:
  std::ostream& notes_;
  std::vector<std::unique_ptr<EventSink>> sinks_;
};

// For the places that may run without a stream (unit tests, subcommands).
inline void emit(EventStream* stream, const Event& event) {
  if (stream != nullptr && stream->active()) stream->emit(event);
}

}  // namespace provium
