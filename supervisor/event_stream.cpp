#include "event_stream.h"

#include "event_frame.h"

namespace provium {

void EventStream::emit(const Event& event) {
  std::string frame;
  try {
    frame = encode_event_frame(event);
  } catch (const EventFrameError& error) {
    notes_ << "provium: warning: event not emitted: " << error.what() << "\n";
    return;
  }
  std::erase_if(sinks_, [&](const std::unique_ptr<EventSink>& sink) {
    try {
      sink->write(frame);
      return false;
    } catch (const std::exception& error) {
      notes_ << "provium: warning: " << error.what() << "; no more events go there\n";
      return true;
    }
  });
}

}  // namespace provium
