#include "file_runner.h"

#include "bridge_binding.h"

#include "command_result_binding.h"
#include "deadline_hook.h"
#include "framework_binding.h"
#include "json_binding.h"
#include "lab.h"
#include "lab_binding.h"
#include "lua_guard.h"
#include "lua_state.h"
#include "require_binding.h"
#include "safe_stdlib.h"
#include "stdio_write.h"
#include "test_clock.h"
#include "test_hooks.h"
#include "clock_binding.h"
#include "console_binding.h"
#include "file_binding.h"
#include "stream_binding.h"
#include "snapshot_binding.h"
#include "vm_binding.h"
#include "batch_binding.h"
#include "process_binding.h"
#include "worker_binding.h"

#include <chrono>
#include <optional>
#include <string>

namespace provium::runner {
namespace {

class FileRun {
 public:
  FileRun(const FileJob& job, SupervisorLink& link, const FileRunnerOptions& options)
      : job_(job), link_(link), lab_(link, clock_), state_(options.lua_memory_cap) {}

  FileOutcome run() {
    FileOutcome outcome;
    if (auto error = set_up_state()) {
      outcome.has_chunk_error = true;
      outcome.chunk_error = "internal error preparing the Lua state: " + *error;
      return outcome;
    }
    auto chunk_error = run_chunk(outcome);
    if (!chunk_error) {
      // Coroutines of the top level still waiting at a barrier can never go on.
      if (auto stuck = joined(lab_.abandon_file_barriers(L()))) chunk_error = "the file's top level ended: " + *stuck;
    }
    if (!chunk_error && lab_.reset_between_tests()) chunk_error = lab_.take_baseline();
    if (chunk_error) {
      outcome.has_chunk_error = true;
      outcome.chunk_error = *chunk_error;
      log_errors(lab_.close_all());
      return outcome;
    }
    int count = 0;
    if (auto error = run_protected(L(), [&](lua_State* S) { count = registered_test_count(S); })) {
      outcome.has_chunk_error = true;
      outcome.chunk_error = *error;
    }
    if (job_.fixture && count > 0) {
      outcome.has_chunk_error = true;
      outcome.chunk_error = job_.display_path + ": a fixture file cannot declare tests (test() is for *.test.lua)";
      count = 0;
    }
    for (int index = 1; index <= count; ++index) outcome.tests.push_back(run_test(index));
    log_errors(lab_.close_all());
    return outcome;
  }

 private:
  lua_State* L() const { return state_.get(); }

  std::optional<std::string> set_up_state() {
    return run_protected(L(), [&](lua_State* S) {
      open_safe_stdlib(S);
      register_vm_type(S);
      register_snapshot_type(S);
      register_bridge_types(S);
      register_file_type(S);
      register_stream_type(S);
      register_process_type(S);
      register_worker_type(S);
      register_batch_type(S);
      register_clock_type(S);
      register_console_type(S);
      register_command_result_type(S);
      install_json_global(S);
      install_framework(S, clock_, job_.filter);
      install_provium_global(S, lab_);
      install_require_global(S, link_);
      if (job_.test_hooks) install_test_hooks(S);
      install_deadline_hook(S, clock_);
    });
  }

  // A fixture's chunk must return the Snapshot it made; its path goes to `outcome`.
  std::optional<std::string> run_chunk(FileOutcome& outcome) {
    if (luaL_loadbufferx(L(), job_.source.data(), job_.source.size(), job_.chunk_name.c_str(), "t") != LUA_OK) {
      std::string message = describe_error_value(L(), -1);
      lua_pop(L(), 1);
      return message;
    }
    if (lua_pcall(L(), 0, job_.fixture ? 1 : 0, 0) != LUA_OK) {
      std::string message = describe_error_value(L(), -1);
      lua_pop(L(), 1);
      return message;
    }
    if (!job_.fixture) return std::nullopt;
    std::optional<std::string> path = snapshot_path_at(L(), -1);
    if (!path) path = lab_snapshot_path_at(L(), -1);
    const std::string returned = luaL_typename(L(), -1);
    lua_pop(L(), 1);
    if (!path) {
      return job_.display_path + ": a fixture must end with `return vm:snapshot()` (a VM fixture) or `return " +
             "provium:snapshot()` (a lab fixture); its chunk returned " +
             (returned == "userdata" ? std::string("a userdata that is neither a Snapshot nor a LabSnapshot")
                                     : "a " + returned);
    }
    outcome.fixture_snapshot = *path;
    return std::nullopt;
  }

  // Anything that goes wrong around (not inside) a test body is that
  // test's failure, never a crash of the whole file.
  TestOutcome failed(const std::string& name, const std::string& message) {
    TestOutcome outcome{name, TestStatus::failed, message, {}, 0};
    link_.test_finished(outcome);
    return outcome;
  }

  TestOutcome run_test(int index) {
    std::string name;
    std::optional<std::string> skip;
    std::optional<Millis> timeout;
    if (auto error = run_protected(L(), [&](lua_State* S) {
          name = registered_test_name(S, index);
          skip = registered_test_skip_reason(S, index);
          timeout = registered_test_timeout(S, index);
        })) {
      return failed(name, *error);
    }
    if (skip) {
      // Filtered and declaratively skipped tests never start.
      TestOutcome outcome{name, TestStatus::skipped, *skip, {}, 0};
      link_.test_finished(outcome);
      return outcome;
    }
    if (!timeout) timeout = lab_.default_timeout();
    // Zero means no limit, like --timeout 0 for a whole file.
    if (timeout && timeout->count() == 0) timeout.reset();

    link_.test_started(name);
    const auto started = SteadyClock::now();
    lab_.enter_test_scope();
    clock_.start(timeout);
    BodyResult body;
    if (auto error = run_protected(L(), [&](lua_State* S) { body = run_registered_test(S, index); })) {
      body = BodyResult{TestStatus::failed, *error, {}, {}};
    }
    clock_.stop();
    reset_deadline_hook(L());
    if (auto stuck = joined(lab_.abandon_test_barriers(L())); stuck && body.status != TestStatus::failed) {
      body = BodyResult{TestStatus::failed, *stuck, std::move(body.log), {}};
    }
    log_errors(lab_.leave_test_scope());
    if (!clock_.fired() && lab_.reset_between_tests()) {
      if (auto error = lab_.restore_baseline(); error && body.status != TestStatus::failed) {
        body = BodyResult{TestStatus::failed, *error, std::move(body.log), {}};
      }
    }
    if (clock_.fired()) {
      // The watchdog semantics: a timed-out test takes the file's lab down.
      body.status = TestStatus::failed;
      body.message = clock_.message();
      log_errors(lab_.close_all());
    }
    if (body.status == TestStatus::failed && !body.failure_with_position.empty()) {
      log_to_stderr("test `" + name + "` failed at " + body.failure_with_position);
    }
    TestOutcome outcome{name, body.status, body.status == TestStatus::passed ? "" : body.message,
                        std::move(body.log),
                        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                       SteadyClock::now() - started)
                                                       .count())};
    link_.test_finished(outcome);
    return outcome;
  }

  static std::optional<std::string> joined(const std::vector<std::string>& lines) {
    if (lines.empty()) return std::nullopt;
    std::string text;
    for (const auto& line : lines) text += (text.empty() ? "" : "; ") + line;
    return text;
  }

  static void log_errors(const std::vector<std::string>& errors) {
    for (const auto& error : errors) log_to_stderr("while closing VMs: " + error);
  }

  const FileJob& job_;
  SupervisorLink& link_;
  // Destroyed in reverse: the Lua state goes first, while the lab and the
  // clock its closures point at still exist.
  TestClock clock_;
  Lab lab_;
  LuaState state_;
};

}  // namespace

FileOutcome run_test_file(const FileJob& job, SupervisorLink& link, const FileRunnerOptions& options) {
  return FileRun(job, link, options).run();
}

}  // namespace provium::runner
