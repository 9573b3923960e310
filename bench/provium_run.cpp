#include "provium_run.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace provium::bench {
namespace {

std::vector<std::string> provium_argv(const std::filesystem::path& provium, const std::filesystem::path& test_file,
                                      const std::optional<std::filesystem::path>& config) {
  std::vector<std::string> argv = {provium.string(), "--json", "--no-preflight"};
  if (config) {
    argv.push_back("--config");
    argv.push_back(config->string());
  }
  argv.push_back(test_file.string());
  return argv;
}

// The pipe's read end; the write end goes to the child as its stdout.
kj::AutoCloseFd open_report_pipe(kj::AutoCloseFd& write_end) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  write_end = kj::AutoCloseFd(out[1]);
  return kj::AutoCloseFd(out[0]);
}

Subprocess spawn_provium(const std::vector<std::string>& argv, int stdout_fd) {
  const char* home = std::getenv("HOME");
  return Subprocess::spawn({.argv = argv,
                            .env = {"PATH=/usr/local/bin:/usr/bin:/bin", std::string("HOME=") + (home ? home : "/tmp")},
                            .fds = {{1, stdout_fd}}});
}

}  // namespace

ProviumRun::ProviumRun(const std::filesystem::path& provium, const std::filesystem::path& test_file,
                       const std::optional<std::filesystem::path>& config)
    : child_([&] {
        kj::AutoCloseFd write_end;
        report_ = open_report_pipe(write_end);
        started_ = std::chrono::steady_clock::now();
        return spawn_provium(provium_argv(provium, test_file, config), write_end.get());
      }()) {}

ProviumTimings ProviumRun::finish() {
  std::string json;
  char buffer[4096];
  for (ssize_t n; (n = ::read(report_.get(), buffer, sizeof buffer)) > 0;) json.append(buffer, static_cast<size_t>(n));
  const auto status = child_.wait();
  ProviumTimings timings;
  timings.whole_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  if (!status.exited || status.code != 0) throw std::runtime_error("provium failed: " + json);
  const auto report = nlohmann::json::parse(json.substr(0, json.find('\n')));
  if (!report.value("passed", false)) throw std::runtime_error("the benchmark file did not pass: " + json);
  for (const auto& test : report.at("tests")) {
    timings.tests_ms[test.at("name").get<std::string>()] = test.at("duration_ms").get<double>();
  }
  return timings;
}

ProviumTimings run_provium(const std::filesystem::path& provium, const std::filesystem::path& test_file,
                           const std::optional<std::filesystem::path>& config) {
  return ProviumRun(provium, test_file, config).finish();
}

BenchDirectory::BenchDirectory() {
  char dir_template[] = "/tmp/provium-bench-XXXXXX";
  if (!::mkdtemp(dir_template)) throw std::runtime_error("mkdtemp");
  dir_ = dir_template;
}

BenchDirectory::~BenchDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::filesystem::path BenchDirectory::write(const std::string& name, const std::string& content) const {
  const auto file = dir_ / name;
  std::ofstream out(file);
  out << content;
  if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
  return file;
}

}  // namespace provium::bench
