#include "scheduler.h"

#include <kj/vector.h>

namespace provium {

kj::Promise<void> Scheduler::run(std::vector<TestFile> files) {
  files_ = std::move(files);
  next_ = 0;
  stopped_ = false;
  kj::Vector<kj::Promise<void>> workers;
  for (std::size_t i = 0; i < concurrency_ && i < files_.size(); ++i) workers.add(next_file());
  return kj::joinPromises(workers.releaseAsArray());
}

// One worker: takes the next file, runs it, reports it, repeats.
kj::Promise<void> Scheduler::next_file() {
  if (stopped_ || next_ >= files_.size()) return kj::READY_NOW;
  const TestFile& file = files_[next_++];
  return start_(file).then([this](FileResult result) {
    if (!on_result_(result)) stopped_ = true;
    return next_file();
  });
}

}  // namespace provium
