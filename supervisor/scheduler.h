// Runs test files with at most `concurrency` at a time (1 for now; a pool of N
// only needs a larger number). Each result is handed over as soon as its file
// finishes; the handler can stop the run (--fail-fast).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include <kj/async.h>

#include "discovery.h"
#include "file_result.h"

namespace provium {

class Scheduler {
 public:
  // Starts one file; the returned promise owns whatever runs it.
  using StartFile = std::function<kj::Promise<FileResult>(const TestFile&)>;
  // Gets each result; returns false to start no further files.
  using OnResult = std::function<bool(const FileResult&)>;

  Scheduler(std::size_t concurrency, StartFile start, OnResult on_result)
      : concurrency_(concurrency == 0 ? 1 : concurrency), start_(std::move(start)), on_result_(std::move(on_result)) {}

  // Resolves when every started file has finished. The Scheduler must outlive it.
  kj::Promise<void> run(std::vector<TestFile> files);

 private:
  kj::Promise<void> next_file();

  std::size_t concurrency_;
  StartFile start_;
  OnResult on_result_;
  std::vector<TestFile> files_;
  std::size_t next_ = 0;
  bool stopped_ = false;
};

}  // namespace provium
