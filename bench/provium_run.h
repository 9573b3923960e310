// Runs `provium --json` on a test file and returns each test's duration.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <kj/io.h>

#include "subprocess.h"

namespace provium::bench {

struct ProviumTimings {
  double whole_ms = 0;                      // starting provium to its exit
  std::map<std::string, double> tests_ms;   // duration_ms of each test, by name
};

// One `provium --json` run, started on construction; several may run at once.
class ProviumRun {
 public:
  // `config`: passed as --config (else provium reads ./provium.toml if any).
  ProviumRun(const std::filesystem::path& provium, const std::filesystem::path& test_file,
             const std::optional<std::filesystem::path>& config = std::nullopt);
  // Reads the report and waits for the exit. Throws when provium fails or a
  // test does not pass.
  ProviumTimings finish();

 private:
  // Declared in this order: the child's initializer sets the other two.
  kj::AutoCloseFd report_;
  std::chrono::steady_clock::time_point started_;
  Subprocess child_;
};

// Throws when provium fails or a test does not pass.
ProviumTimings run_provium(const std::filesystem::path& provium, const std::filesystem::path& test_file,
                           const std::optional<std::filesystem::path>& config = std::nullopt);

// A private directory under /tmp; removed with everything in it on destruction.
class BenchDirectory {
 public:
  BenchDirectory();
  ~BenchDirectory();
  BenchDirectory(const BenchDirectory&) = delete;
  BenchDirectory& operator=(const BenchDirectory&) = delete;
  const std::filesystem::path& path() const { return dir_; }
  // Writes `name` in the directory and returns its path.
  std::filesystem::path write(const std::string& name, const std::string& content) const;

 private:
  std::filesystem::path dir_;
};

// A private directory under /tmp holding one test file; removed on destruction.
class BenchTestFile {
 public:
  explicit BenchTestFile(const std::string& source) : file_(dir_.write("bench.test.lua", source)) {}
  const std::filesystem::path& path() const { return file_; }

 private:
  BenchDirectory dir_;
  std::filesystem::path file_;
};

}  // namespace provium::bench
