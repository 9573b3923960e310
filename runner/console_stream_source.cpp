#include "console_stream_source.h"

namespace provium::runner {

ConsoleStreamSource::ConsoleStreamSource(std::shared_ptr<Vm> vm, std::unique_ptr<ConsoleConnection> connection)
    : vm_(std::move(vm)), connection_(std::move(connection)) {
  vm_->console_stream_opened();
}

std::optional<std::string> ConsoleStreamSource::read(std::size_t max, Deadline wait) {
  auto data = connection_->read(max, wait.earliest(vm_->test_deadline()));
  if (!data) {
    vm_->check_test_deadline();  // the test's deadline passing is not "nothing yet"
    return std::nullopt;
  }
  if (data->empty()) ended_ = true;
  return data;
}

void ConsoleStreamSource::close() {
  connection_.reset();
  vm_->console_stream_closed();
}

}  // namespace provium::runner
