#include "cli_parser.h"

#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "exit_codes.h"

namespace provium {
namespace {

constexpr const char* kFooter = R"(Exit codes:
  0  every file passed (or skipped)
  1  at least one file failed, crashed or timed out, or the run was interrupted
  2  internal error: bad flags, config error, failed preflight)";

struct RawFlags {
  std::string timeout = "300";
  std::string vmm = "qemu";
  std::string net = "auto";
  std::string accel = "auto";
  std::vector<std::string> tag_meta;
  std::vector<std::string> no_tag_meta;
  bool verbose = false;
  bool quiet = false;
  bool no_preflight = false;
  std::string save_events;
  std::string events_socket;
};

CliDecision usage_error(const std::string& message) {
  CliDecision decision;
  decision.exit_code = kExitInternalError;
  decision.stderr_text = fmt::format("provium: error: {}\nRun with --help for more information.\n", message);
  return decision;
}

std::vector<MetaMatch> parse_meta_matches(const std::vector<std::string>& entries, const char* flag) {
  std::vector<MetaMatch> matches;
  for (const auto& entry : entries) {
    const auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw std::invalid_argument(fmt::format("{} `{}`: expected KEY=VALUE", flag, entry));
    }
    matches.push_back({entry.substr(0, equals), entry.substr(equals + 1)});
  }
  return matches;
}

AccelChoice parse_accel(const std::string& text) {
  if (text == "kvm") return AccelChoice::kvm;
  if (text == "tcg") return AccelChoice::tcg;
  return AccelChoice::automatic;
}

void define_run_flags(CLI::App& app, RunOptions& options, RawFlags& raw) {
  app.add_option("paths", options.paths,
                 "Files or directories to run (default: the config's roots, else the current directory)")
      ->type_name("PATH");
  app.add_option("--config", options.config_path, "Config file (default: ./provium.toml)")->type_name("PATH");
  app.add_option("--filter", options.filter, "Only run files whose root-relative path contains this substring")
      ->type_name("STR");
  app.add_option("--tag", options.selection.tags, "Run only tests with one of these tags (repeatable)")
      ->type_name("TAG")
      ->allow_extra_args(false);
  app.add_option("--no-tag", options.selection.no_tags, "Skip tests with any of these tags (repeatable)")
      ->type_name("TAG")
      ->allow_extra_args(false);
  app.add_option("--tag-meta", raw.tag_meta, "Run only tests where meta[KEY] contains VALUE (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  app.add_option("--no-tag-meta", raw.no_tag_meta, "Skip tests where meta[KEY] contains VALUE (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  app.add_flag("--include-slow", options.selection.include_slow, "Include meta.slow tests");
  app.add_option("--timeout", raw.timeout,
                 "Per-file wall-clock timeout: seconds or 500ms/30s/10m/2h; 0 disables (default 300)")
      ->type_name("DUR");
  app.add_flag("--fail-fast", options.fail_fast, "Stop after the first file that does not pass");
  auto* verbose = app.add_flag("-v,--verbose", raw.verbose, "Show passing and skipped tests too");
  auto* quiet = app.add_flag("-q,--quiet", raw.quiet, "Show only files with failures, and the summary");
  verbose->excludes(quiet);
  quiet->excludes(verbose);
  auto* json = app.add_flag("--json", options.json, "Line-delimited JSON, one object per file");
  app.add_option("--save-events", raw.save_events, "Write the event stream to PATH (msgpack frames; created 0600)")
      ->type_name("PATH");
  auto* events_stdout = app.add_flag("--events-stdout", options.events_stdout,
                                     "Write the event stream to stdout; the report goes to stderr");
  app.add_option("--events-socket", raw.events_socket,
                 "Listen on a Unix socket at PATH and send the event stream to every client")
      ->type_name("PATH");
  json->excludes(events_stdout);
  events_stdout->excludes(json);
  app.add_option("--vmm", raw.vmm,
                 "VM backend: qemu, or local (no kernel: provium-agent runs sandboxed on this host)")
      ->check(CLI::IsMember({"qemu", "local"}));
  app.add_option("--net", raw.net,
                 "Test network datapath: user (a switch in provium, no privileges), kernel (bridges and TAPs, "
                 "needs CAP_NET_ADMIN), or auto (default)")
      ->check(CLI::IsMember({"auto", "user", "kernel"}));
  app.add_flag("--no-preflight", raw.no_preflight, "Skip the startup environment checks");
  app.add_option("--accel", raw.accel, "QEMU accelerator: auto, kvm or tcg (default auto)")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  app.add_flag("--test-hooks", options.test_hooks, "Expose _provium_test_hooks to test files")->group("");
}

// Checks that CLI11 cannot express, and conversion of the raw strings.
CliDecision finish_run_options(CLI::App& app, RunOptions options, const RawFlags& raw) {
  if (raw.vmm == "local" && app.count("--accel") > 0) {
    return usage_error("--accel chooses QEMU's accelerator; --vmm local runs no QEMU");
  }
  try {
    options.timeout = parse_duration(raw.timeout);
  } catch (const std::invalid_argument& error) {
    return usage_error(fmt::format("--timeout: {}", error.what()));
  }
  try {
    options.selection.tag_meta = parse_meta_matches(raw.tag_meta, "--tag-meta");
    options.selection.no_tag_meta = parse_meta_matches(raw.no_tag_meta, "--no-tag-meta");
  } catch (const std::invalid_argument& error) {
    return usage_error(error.what());
  }
  if (app.count("--save-events") > 0) {
    if (raw.save_events.empty()) return usage_error("--save-events: the path is empty");
    options.save_events = raw.save_events;
  }
  if (app.count("--events-socket") > 0) {
    if (raw.events_socket.empty()) return usage_error("--events-socket: the path is empty");
    options.events_socket = raw.events_socket;
  }
  if (options.save_events && options.events_socket && *options.save_events == *options.events_socket) {
    return usage_error("--save-events and --events-socket name the same path");
  }
  options.config_path_explicit = app.count("--config") > 0;
  options.verbosity = raw.verbose ? Verbosity::verbose : raw.quiet ? Verbosity::quiet : Verbosity::normal;
  options.preflight = !raw.no_preflight;
  options.accel = parse_accel(raw.accel);
  options.vmm = raw.vmm == "local" ? Vmm::local : Vmm::qemu;
  options.net = parse_net_datapath(raw.net).value_or(NetDatapath::automatic);
  CliDecision decision;
  decision.command = CliCommand::run_tests;
  decision.options = std::move(options);
  return decision;
}

}  // namespace

CliDecision parse_cli(const std::vector<std::string>& args) {
  CLI::App app{"Run *.test.lua files against real QEMU guests.", "provium"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("provium ") + PROVIUM_VERSION);
  RunOptions options;
  RawFlags raw;
  define_run_flags(app, options, raw);
  auto* guest = app.add_subcommand(
      "guest", "Print the bundled default guest (kernel, initrd, cmdline) as a provium.toml profile snippet");
  auto* fixture = app.add_subcommand("fixture", "Manage the fixture cache (cache_dir in provium.toml)");
  fixture->add_subcommand("list", "Show every cached fixture with its size, kind and key");
  fixture->add_subcommand("clean", "Delete every cached fixture");
  std::vector<std::string> fixture_paths;
  auto* build = fixture->add_subcommand("build", "Build every *.fixture.lua under PATH... that is not cached");
  auto* rebuild = fixture->add_subcommand("rebuild", "Build every *.fixture.lua under PATH... again");
  auto* stale = fixture->add_subcommand("stale", "Say which *.fixture.lua under PATH... are not cached");
  for (auto* sub : {build, rebuild, stale}) sub->add_option("paths", fixture_paths, "files or directories");
  fixture->require_subcommand(1);
  auto* list = app.add_subcommand("list", "Print the *.test.lua files a run would run (or, with --fixtures, the "
                                          "*.fixture.lua files) under PATH..., one per line; boots nothing");
  std::vector<std::string> list_paths;
  bool list_fixtures = false;
  list->add_option("paths", list_paths, "files or directories (default: the config's roots, else the cwd)");
  list->add_flag("--fixtures", list_fixtures, "List *.fixture.lua files instead of test files");
  list->fallthrough();  // --config and --filter may come after `list`
  app.require_subcommand(0, 1);

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 consumes from the back
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    CliDecision decision;
    decision.stdout_text = app.help();
    return decision;
  } catch (const CLI::CallForAllHelp&) {
    CliDecision decision;
    decision.stdout_text = app.help("", CLI::AppFormatMode::All);
    return decision;
  } catch (const CLI::CallForVersion&) {
    CliDecision decision;
    decision.stdout_text = app.version() + "\n";
    return decision;
  } catch (const CLI::ParseError& error) {
    return usage_error(error.what());
  }
  if (guest->parsed()) {
    CliDecision decision;
    decision.command = CliCommand::print_guest;
    return decision;
  }
  if (list->parsed()) {
    CliDecision decision;
    decision.command = CliCommand::list;
    options.config_path_explicit = app.count("--config") > 0;
    options.paths.insert(options.paths.end(), list_paths.begin(), list_paths.end());
    options.list_fixtures = list_fixtures;
    decision.options = std::move(options);
    return decision;
  }
  if (fixture->parsed()) {
    CliDecision decision;
    decision.command = fixture->got_subcommand("list")      ? CliCommand::fixture_list
                       : fixture->got_subcommand("clean")   ? CliCommand::fixture_clean
                       : fixture->got_subcommand("build")   ? CliCommand::fixture_build
                       : fixture->got_subcommand("rebuild") ? CliCommand::fixture_rebuild
                                                            : CliCommand::fixture_stale;
    options.config_path_explicit = app.count("--config") > 0;
    options.paths = fixture_paths;
    decision.options = std::move(options);
    return decision;
  }
  return finish_run_options(app, std::move(options), raw);
}

}  // namespace provium
