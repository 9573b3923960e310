// Runs `provium --json` on a test file and returns each test's duration.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace provium::bench {

struct ProviumTimings {
  double whole_ms = 0;                      // starting provium to its exit
  std::map<std::string, double> tests_ms;   // duration_ms of each test, by name
};

// Throws when provium fails or a test does not pass.
ProviumTimings run_provium(const std::filesystem::path& provium, const std::filesystem::path& test_file);

// A private directory under /tmp holding one test file; removed on destruction.
class BenchTestFile {
 public:
  explicit BenchTestFile(const std::string& source);
  ~BenchTestFile();
  BenchTestFile(const BenchTestFile&) = delete;
  BenchTestFile& operator=(const BenchTestFile&) = delete;
  const std::filesystem::path& path() const { return file_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path file_;
};

}  // namespace provium::bench
