// Runs the real `provium` binary against fake-runner (a scripted stand-in for
// provium-runner): output shapes, exit codes, crash/timeout handling, config
// errors, interruption. The QEMU cases boot the bundled guest and are skipped
// when it has not been built.
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "subprocess.h"
#include "temp_dir.h"

namespace provium {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct RunOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env_or_empty("PROVIUM_BIN").empty() || env_or_empty("FAKE_RUNNER").empty()) {
      GTEST_SKIP() << "PROVIUM_BIN and FAKE_RUNNER are set by meson test";
    }
  }

  // kj::AutoCloseFd may throw from its destructor; gtest's fixture base may not.
  ~EndToEnd() noexcept override {}

  // Spawns provium in the project directory; `extra_env` adds "K=V" entries.
  Subprocess start(const std::vector<std::string>& args, std::vector<std::string> extra_env = {}) {
    SpawnSpec spec;
    spec.argv = {env_or_empty("PROVIUM_BIN")};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = std::move(extra_env);  // first, so they win: getenv() takes the first match
    spec.env.insert(spec.env.end(), {"PATH=" + env_or_empty("PATH"), "HOME=" + home_.path().string(),
                                     "PROVIUM_RUNNER=" + env_or_empty("FAKE_RUNNER")});
    if (!env_or_empty("PROVIUM_GUEST_DIR").empty()) spec.env.push_back("PROVIUM_GUEST_DIR=" + env_or_empty("PROVIUM_GUEST_DIR"));
    if (!env_or_empty("PROVIUM_AGENT").empty()) spec.env.push_back("PROVIUM_AGENT=" + env_or_empty("PROVIUM_AGENT"));
    out_ = kj::AutoCloseFd(::open((home_.path() / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    err_ = kj::AutoCloseFd(::open((home_.path() / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    null_ = kj::AutoCloseFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    spec.fds = {{0, null_.get()}, {1, out_.get()}, {2, err_.get()}};
    // provium runs from the project directory.
    const std::string dir = project_.path().string();
    spec.before_exec = [dir]() -> const char* { return ::chdir(dir.c_str()) == 0 ? nullptr : "chdir"; };
    return Subprocess::spawn(spec);
  }

  RunOutput finish(Subprocess& process) {
    const ExitStatus status = process.wait();
    RunOutput run;
    run.exit_code = status.exited ? status.code : 128 + status.signal;
    run.out = slurp(home_.path() / "out");
    run.err = slurp(home_.path() / "err");
    return run;
  }

  RunOutput provium(const std::vector<std::string>& args, std::vector<std::string> extra_env = {}) {
    Subprocess process = start(args, std::move(extra_env));
    return finish(process);
  }

  TempDir project_;
  TempDir home_;
  kj::AutoCloseFd out_, err_, null_;
};

TEST_F(EndToEnd, PassFailSkipAndTheSummary) {
  project_.write("tests/smoke.test.lua", "pass boots\npass runs\nskip slow meta.slow\n");
  project_.write("tests/net/partition.test.lua", "pass a\nfail split-brain client A could not reach client B\n");
  RunOutput run = provium({"tests"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.out.substr(0, run.out.rfind('\n', run.out.size() - 2) + 1),
            "FAIL tests/net/partition.test.lua (1 passed, 1 failed, 0 skipped)\n"
            "    FAIL split-brain\n"
            "        client A could not reach client B\n"
            "PASS tests/smoke.test.lua (2 passed, 0 failed, 1 skipped)\n"
            "\n");
  EXPECT_NE(run.out.find("2 file(s); 3 passed, 1 failed, 1 skipped; "), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("provium: using "), std::string::npos) << run.err;

  run = provium({"tests/smoke.test.lua", "-v"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.out.find("    PASS boots\n    PASS runs\n    SKIP slow \u2014 meta.slow\n"), std::string::npos);

  run = provium({"tests", "-q"});
  EXPECT_EQ(run.out.find("smoke"), std::string::npos);
  EXPECT_EQ(run.out.find("split-brain"), std::string::npos);
  EXPECT_NE(run.out.find("FAIL tests/net/partition.test.lua"), std::string::npos);

  run = provium({"tests", "--filter", "smoke"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out.find("partition"), std::string::npos);
}

TEST_F(EndToEnd, JsonIsOneObjectPerLine) {
  project_.write("a.test.lua", "pass one\n");
  project_.write("b.test.lua", "fail two nope\n");
  const RunOutput run = provium({"--json"});
  EXPECT_EQ(run.exit_code, 1);
  std::istringstream lines(run.out);
  std::vector<nlohmann::json> objects;
  for (std::string line; std::getline(lines, line);) objects.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(objects.size(), 2u) << run.out;
  EXPECT_EQ(objects[0]["path"], "a.test.lua");
  EXPECT_EQ(objects[0]["passed"], true);
  EXPECT_EQ(objects[1]["tests"][0]["message"], "nope");
  EXPECT_EQ(objects[1]["status"], "failed");
  EXPECT_NE(run.err.find("2 file(s)"), std::string::npos) << "the summary goes to stderr";
}

TEST_F(EndToEnd, CrashesKeepFinishedTestsAndShowTheRunnerLog) {
  project_.write("crash.test.lua", "pass first\nstart second\nprint about to crash\nsignal 11\n");
  project_.write("sys.test.lua", "start forbidden\nsignal 31\n");
  project_.write("quit.test.lua", "pass a\nexit 0\n");
  const RunOutput run = provium({});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("FAIL crash.test.lua (1 passed, 1 failed, 0 skipped)\n"
                         "    FAIL second\n"
                         "        the runner was killed by SIGSEGV while this test was running\n"
                         "    crashed: the runner was killed by SIGSEGV\n"
                         "        last output from the runner:\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("        about to crash\n"), std::string::npos);
  EXPECT_NE(run.out.find("killed by the sandbox (SIGSYS) for making a forbidden system call"), std::string::npos);
  EXPECT_NE(run.out.find("the runner exited with exit code 0 without reporting its results"), std::string::npos);
}

TEST_F(EndToEnd, TimeoutKillsTheRunner) {
  project_.write("long.test.lua", "pass quick\nstart slow\nsleep 60\n");
  const auto started = std::chrono::steady_clock::now();
  const RunOutput run = provium({"--timeout", "500ms"});
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("TIME long.test.lua (1 passed, 1 failed, 0 skipped)\n"
                         "    FAIL slow\n"
                         "        the file timed out after 500ms while this test was running\n"
                         "    timed out after 500ms\n"),
            std::string::npos)
      << run.out;
}

TEST_F(EndToEnd, FailFastStopsAfterTheFirstFailedFile) {
  project_.write("a.test.lua", "fail x\n");
  project_.write("b.test.lua", "pass y\n");
  const RunOutput run = provium({"--fail-fast"});
  EXPECT_NE(run.out.find("FAIL a.test.lua"), std::string::npos);
  EXPECT_EQ(run.out.find("b.test.lua"), std::string::npos);
  EXPECT_NE(run.out.find("1 file(s)"), std::string::npos);
}

TEST_F(EndToEnd, ModulesResolveUnderTheConfigRoots) {
  project_.write("provium.toml", "[provium]\nroots = [\"tests\"]\n");
  project_.write("tests/helpers/x.lua", "return 42");
  project_.write("tests/sub/m.test.lua", "require helpers.x\nrequire ../provium\n");
  const RunOutput run = provium({"-v"});
  EXPECT_NE(run.out.find("PASS require helpers.x"), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.out.find("`..` is not allowed"), std::string::npos) << run.out;
}

TEST_F(EndToEnd, ConfigAndUsageErrorsExitTwo) {
  project_.write("provium.toml", "[profiles.fast]\nkernel = \"k\"\ninitrd = \"i\"\ncmdline = \"\"\n");
  RunOutput run = provium({});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "provium: provium.toml:4: profiles.fast.cmdline: must not be empty\n");
  run = provium({"--config", "missing.toml"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("missing.toml: cannot read config"), std::string::npos);
  EXPECT_EQ(provium({"-v", "-q"}).exit_code, 2);
  EXPECT_EQ(provium({"--vmm", "local", "--config", "missing.toml"}).exit_code, 2);
  EXPECT_EQ(provium({"--config", "missing.toml", "no/such/dir"}).exit_code, 2);
}

TEST_F(EndToEnd, PreflightFailuresExitTwoWithAHint) {
  project_.write("a.test.lua", "pass x\n");
  const RunOutput run = provium({}, {"PROVIUM_RUNNER=/nonexistent/provium-runner"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("provium: preflight: provium-runner was not found (searched: /nonexistent/provium-runner)"),
            std::string::npos)
      << run.err;
}

TEST_F(EndToEnd, NoFilesIsASuccess) {
  const RunOutput run = provium({});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.out.find("0 file(s); 0 passed, 0 failed, 0 skipped;"), std::string::npos);
}

TEST_F(EndToEnd, InterruptKillsTheRunnerAndSaysSo) {
  const fs::path pidfile = home_.path() / "runner.pid";
  project_.write("a.test.lua", "pass quick\n");
  project_.write("b.test.lua", "pidfile " + pidfile.string() + "\nsleep 60\n");
  Subprocess process = start({"--timeout", "0"});
  for (int i = 0; i < 1200 && !fs::exists(pidfile); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(pidfile));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const int runner_pid = std::stoi(slurp(pidfile));
  process.signal(SIGINT);
  const RunOutput run = finish(process);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("PASS a.test.lua"), std::string::npos) << "what finished is printed";
  EXPECT_NE(run.out.find("1 file(s)"), std::string::npos);
  EXPECT_NE(run.err.find("provium: interrupted"), std::string::npos);
  EXPECT_NE(::kill(runner_pid, 0), 0) << "the runner must be gone";
}

bool bundled_guest_available() {
  std::string dir = env_or_empty("PROVIUM_GUEST_DIR");
  if (dir.empty()) dir = (fs::path(env_or_empty("PROVIUM_BIN")).parent_path() / ".." / "guest").string();
  return fs::exists(fs::path(dir) / "vmlinux") && fs::exists(fs::path(dir) / "initramfs.cpio");
}

TEST_F(EndToEnd, BootsTheBundledGuestAndHandsOverTheAgentChannel) {
  if (!bundled_guest_available()) GTEST_SKIP() << "the bundled guest is not built";
  project_.write("vm.test.lua", "boot default\nagent-hello\n");
  const RunOutput run = provium({"-v", "--timeout", "120"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("PASS boot"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("PASS agent-hello"), std::string::npos) << run.out;
}

TEST_F(EndToEnd, BootFailuresCarryQemusOwnWords) {
  project_.write("provium.toml", "[profiles.broken]\nkernel = \"not-a-kernel\"\ninitrd = \"initrd\"\n"
                                 "cmdline = \"quiet\"\ninject_agent = false\n");
  project_.write("not-a-kernel", "this is not a kernel");
  project_.write("initrd", "");
  project_.write("vm.test.lua", "boot broken\n");
  const RunOutput run = provium({"--no-preflight"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("FAIL boot"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("QEMU said:"), std::string::npos) << run.out;
}

// --vmm local: no QEMU, no guest image; the profile's kernel is not even read.
TEST_F(EndToEnd, LocalModeRunsTheAgentAndHandsOverItsChannel) {
  project_.write("provium.toml", "[profiles.nokernel]\nkernel = \"no-such-kernel\"\ninitrd = \"no-such-initrd\"\n"
                                 "cmdline = \"quiet\"\n");
  project_.write("vm.test.lua", "boot nokernel\nagent-hello\nconsole\n");
  project_.write("default.test.lua", "boot default\nagent-hello\n");
  const RunOutput run = provium({"-v", "--vmm", "local", "--timeout", "60"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("PASS default.test.lua"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("PASS vm.test.lua"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("PASS agent-hello"), std::string::npos) << run.out;
  EXPECT_NE(run.err.find("provium: --vmm local: no kernel is booted"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("QEMU"), std::string::npos) << run.err;
}

TEST_F(EndToEnd, LocalModePreflightNeedsTheAgent) {
  project_.write("a.test.lua", "pass x\n");
  const RunOutput run = provium({"--vmm", "local"}, {"PROVIUM_AGENT=/nonexistent/provium-agent"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("provium: preflight: --vmm local needs provium-agent, which was not found (searched: "
                         "/nonexistent/provium-agent)"),
            std::string::npos)
      << run.err;
  EXPECT_EQ(provium({"--vmm", "local", "--no-preflight"}, {"PROVIUM_AGENT=/nonexistent/provium-agent"}).exit_code, 2);
}

}  // namespace
}  // namespace provium
