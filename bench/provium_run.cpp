#include "provium_run.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "subprocess.h"

namespace provium::bench {

ProviumTimings run_provium(const std::filesystem::path& provium, const std::filesystem::path& test_file) {
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("pipe");
  kj::AutoCloseFd read_end(out[0]);
  const auto start = std::chrono::steady_clock::now();
  const char* home = std::getenv("HOME");
  auto child = Subprocess::spawn({.argv = {provium.string(), "--json", "--no-preflight", test_file.string()},
                                  .env = {"PATH=/usr/local/bin:/usr/bin:/bin", std::string("HOME=") + (home ? home : "/tmp")},
                                  .fds = {{1, out[1]}}});
  ::close(out[1]);
  std::string json;
  char buffer[4096];
  for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) > 0;) json.append(buffer, static_cast<size_t>(n));
  const auto status = child.wait();
  ProviumTimings timings;
  timings.whole_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!status.exited || status.code != 0) throw std::runtime_error("provium failed: " + json);
  const auto report = nlohmann::json::parse(json.substr(0, json.find('\n')));
  if (!report.value("passed", false)) throw std::runtime_error("the benchmark file did not pass: " + json);
  for (const auto& test : report.at("tests")) {
    timings.tests_ms[test.at("name").get<std::string>()] = test.at("duration_ms").get<double>();
  }
  return timings;
}

BenchTestFile::BenchTestFile(const std::string& source) {
  char dir_template[] = "/tmp/provium-bench-XXXXXX";
  if (!::mkdtemp(dir_template)) throw std::runtime_error("mkdtemp");
  dir_ = dir_template;
  file_ = dir_ / "bench.test.lua";
  std::ofstream(file_) << source;
}

BenchTestFile::~BenchTestFile() { std::filesystem::remove_all(dir_); }

}  // namespace provium::bench
