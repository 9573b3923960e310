// The console as a Stream's source (a ConsoleStream in 1000-streams.md): a
// socket from the supervisor carrying the kept console log, then live output.
#pragma once

#include "console_connection.h"
#include "stream_source.h"
#include "vm.h"

#include <memory>

namespace provium::runner {

class ConsoleStreamSource final : public StreamSource {
 public:
  // Counted in the VM's open streams until closed.
  ConsoleStreamSource(std::shared_ptr<Vm> vm, std::unique_ptr<ConsoleConnection> connection);

  std::optional<std::string> read(std::size_t max, Deadline wait) override;
  bool ended() override { return ended_ || (connection_ && connection_->at_eof()); }
  std::string failure() override { return {}; }
  void close() override;

 private:
  std::shared_ptr<Vm> vm_;
  std::unique_ptr<ConsoleConnection> connection_;
  bool ended_ = false;
};

}  // namespace provium::runner
