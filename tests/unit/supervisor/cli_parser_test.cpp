#include "cli_parser.h"

#include <gtest/gtest.h>

namespace provium {
namespace {

CliDecision parse(std::vector<std::string> args) { return parse_cli(args); }

TEST(CliParser, DefaultsMatchTheDocs) {
  const auto decision = parse({});
  ASSERT_EQ(decision.command, CliCommand::run_tests);
  EXPECT_TRUE(decision.options.paths.empty());
  EXPECT_EQ(decision.options.config_path, "provium.toml");
  EXPECT_FALSE(decision.options.config_path_explicit);
  EXPECT_EQ(decision.options.timeout, Millis(300'000));
  EXPECT_EQ(decision.options.verbosity, Verbosity::normal);
  EXPECT_TRUE(decision.options.preflight);
  EXPECT_EQ(decision.options.accel, AccelChoice::automatic);
  EXPECT_FALSE(decision.options.test_hooks);
}

TEST(CliParser, ReadsEveryRunFlag) {
  const auto decision =
      parse({"tests", "more/x.test.lua", "--config", "alt.toml", "--filter", "net", "--tag", "a", "--tag", "b",
             "--no-tag", "flaky", "--tag-meta", "subsystems=peinit", "--no-tag-meta", "area=boot=x",
             "--include-slow", "--timeout", "30s", "--fail-fast", "-v", "--json", "--vmm", "qemu", "--no-preflight",
             "--accel", "tcg", "--test-hooks"});
  ASSERT_EQ(decision.command, CliCommand::run_tests) << decision.stderr_text;
  const RunOptions& options = decision.options;
  EXPECT_EQ(options.paths, (std::vector<std::string>{"tests", "more/x.test.lua"}));
  EXPECT_EQ(options.config_path, "alt.toml");
  EXPECT_TRUE(options.config_path_explicit);
  EXPECT_EQ(options.filter, "net");
  EXPECT_EQ(options.selection.tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(options.selection.no_tags, (std::vector<std::string>{"flaky"}));
  ASSERT_EQ(options.selection.tag_meta.size(), 1u);
  EXPECT_EQ(options.selection.tag_meta[0].key, "subsystems");
  EXPECT_EQ(options.selection.tag_meta[0].value, "peinit");
  ASSERT_EQ(options.selection.no_tag_meta.size(), 1u);
  EXPECT_EQ(options.selection.no_tag_meta[0].value, "boot=x");
  EXPECT_TRUE(options.selection.include_slow);
  EXPECT_EQ(options.timeout, Millis(30'000));
  EXPECT_TRUE(options.fail_fast);
  EXPECT_EQ(options.verbosity, Verbosity::verbose);
  EXPECT_TRUE(options.json);
  EXPECT_FALSE(options.preflight);
  EXPECT_EQ(options.accel, AccelChoice::tcg);
  EXPECT_TRUE(options.test_hooks);
}

TEST(CliParser, RepeatableFlagsTakeOneValueEach) {
  const auto decision = parse({"--tag", "smoke", "tests", "--no-tag-meta", "a=b", "more", "--tag", "fast"});
  ASSERT_EQ(decision.command, CliCommand::run_tests) << decision.stderr_text;
  EXPECT_EQ(decision.options.selection.tags, (std::vector<std::string>{"smoke", "fast"}));
  EXPECT_EQ(decision.options.paths, (std::vector<std::string>{"tests", "more"}));
  EXPECT_EQ(decision.options.selection.no_tag_meta.size(), 1u);
}

TEST(CliParser, TimeoutForms) {
  EXPECT_EQ(parse({"--timeout", "500ms"}).options.timeout, Millis(500));
  EXPECT_EQ(parse({"--timeout", "10m"}).options.timeout, Millis(600'000));
  EXPECT_EQ(parse({"--timeout", "2h"}).options.timeout, Millis(7'200'000));
  EXPECT_EQ(parse({"--timeout", "45"}).options.timeout, Millis(45'000));
  EXPECT_EQ(parse({"--timeout", "0"}).options.timeout, Millis(0));
  const auto bad = parse({"--timeout", "soon"});
  EXPECT_EQ(bad.command, CliCommand::exit_now);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.stderr_text.find("--timeout"), std::string::npos);
}

TEST(CliParser, VerboseAndQuietExcludeEachOther) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"-v", "-q"}, {"--quiet", "--verbose"}}) {
    const auto decision = parse(args);
    EXPECT_EQ(decision.command, CliCommand::exit_now);
    EXPECT_EQ(decision.exit_code, 2);
    EXPECT_NE(decision.stderr_text.find("excludes"), std::string::npos) << decision.stderr_text;
  }
  EXPECT_EQ(parse({"-q"}).options.verbosity, Verbosity::quiet);
}

TEST(CliParser, VmmChoosesTheBackend) {
  EXPECT_EQ(parse({}).options.vmm, Vmm::qemu);
  EXPECT_EQ(parse({"--vmm", "qemu"}).options.vmm, Vmm::qemu);
  const auto local = parse({"--vmm", "local"});
  EXPECT_EQ(local.command, CliCommand::run_tests);
  EXPECT_EQ(local.options.vmm, Vmm::local);
  EXPECT_EQ(parse({"--vmm", "firecracker"}).exit_code, 2);
}

TEST(CliParser, AccelMeansNothingWithoutQemu) {
  const auto decision = parse({"--vmm", "local", "--accel", "kvm"});
  EXPECT_EQ(decision.exit_code, 2);
  EXPECT_NE(decision.stderr_text.find("--vmm local runs no QEMU"), std::string::npos) << decision.stderr_text;
}

TEST(CliParser, BadValuesAndUnknownFlagsExitTwo) {
  EXPECT_EQ(parse({"--accel", "hvf"}).exit_code, 2);
  EXPECT_EQ(parse({"--tag-meta", "novalue"}).exit_code, 2);
  EXPECT_EQ(parse({"--tag-meta", "=x"}).exit_code, 2);
  EXPECT_EQ(parse({"--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(parse({"--config"}).exit_code, 2);
}

TEST(CliParser, HelpAndVersionExitZero) {
  const auto help = parse({"--help"});
  EXPECT_EQ(help.command, CliCommand::exit_now);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.stdout_text.find("--timeout"), std::string::npos);
  EXPECT_NE(help.stdout_text.find("guest"), std::string::npos);
  EXPECT_EQ(help.stdout_text.find("--test-hooks"), std::string::npos) << "hidden flag shown";
  const auto version = parse({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.stdout_text.find("provium "), std::string::npos);
}

TEST(CliParser, GuestSubcommand) {
  EXPECT_EQ(parse({"guest"}).command, CliCommand::print_guest);
  EXPECT_EQ(parse({"guest", "--bogus"}).exit_code, 2);
}

TEST(CliParser, FixtureSubcommands) {
  EXPECT_EQ(parse({"fixture", "list"}).command, CliCommand::fixture_list);
  const auto clean = parse({"--config", "ci/provium.toml", "fixture", "clean"});
  EXPECT_EQ(clean.command, CliCommand::fixture_clean);
  EXPECT_EQ(clean.options.config_path, "ci/provium.toml");
  EXPECT_TRUE(clean.options.config_path_explicit);
  const auto bare = parse({"fixture"});
  EXPECT_EQ(bare.command, CliCommand::exit_now);
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_NE(bare.stderr_text.find("subcommand is required"), std::string::npos) << bare.stderr_text;
  EXPECT_EQ(parse({"fixture", "frobnicate"}).exit_code, 2);
}

TEST(CliParser, EventFlags) {
  const auto decision = parse({"tests", "--save-events", "run.msgpack", "--events-socket", "/tmp/e.sock",
                               "--events-stdout"});
  ASSERT_EQ(decision.command, CliCommand::run_tests) << decision.stderr_text;
  EXPECT_EQ(decision.options.save_events, "run.msgpack");
  EXPECT_EQ(decision.options.events_socket, "/tmp/e.sock");
  EXPECT_TRUE(decision.options.events_stdout);
  const auto none = parse({});
  EXPECT_FALSE(none.options.save_events.has_value());
  EXPECT_FALSE(none.options.events_socket.has_value());
  EXPECT_FALSE(none.options.events_stdout);
}

TEST(CliParser, EventsStdoutAndJsonExcludeEachOther) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--json", "--events-stdout"},
                                                                {"--events-stdout", "--json"}}) {
    const auto decision = parse(args);
    EXPECT_EQ(decision.command, CliCommand::exit_now);
    EXPECT_EQ(decision.exit_code, 2);
    EXPECT_NE(decision.stderr_text.find("--json excludes --events-stdout"), std::string::npos) << decision.stderr_text;
  }
  // With a file or a socket, --json keeps stdout.
  EXPECT_EQ(parse({"--json", "--save-events", "e.msgpack"}).command, CliCommand::run_tests);
}

TEST(CliParser, BadEventPaths) {
  EXPECT_EQ(parse({"--save-events"}).exit_code, 2);
  const auto empty = parse({"--save-events", ""});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.stderr_text.find("--save-events: the path is empty"), std::string::npos) << empty.stderr_text;
  const auto same = parse({"--save-events", "x", "--events-socket", "x"});
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_NE(same.stderr_text.find("name the same path"), std::string::npos) << same.stderr_text;
}

TEST(CliParser, ListSubcommand) {
  const auto tests = parse({"list"});
  ASSERT_EQ(tests.command, CliCommand::list) << tests.stderr_text;
  EXPECT_FALSE(tests.options.list_fixtures);
  EXPECT_TRUE(tests.options.paths.empty());
  const auto fixtures = parse({"--config", "ci/provium.toml", "list", "--fixtures", "tests", "more"});
  ASSERT_EQ(fixtures.command, CliCommand::list) << fixtures.stderr_text;
  EXPECT_TRUE(fixtures.options.list_fixtures);
  EXPECT_EQ(fixtures.options.paths, (std::vector<std::string>{"tests", "more"}));
  EXPECT_EQ(fixtures.options.config_path, "ci/provium.toml");
  const auto filtered = parse({"list", "--filter", "net"});
  ASSERT_EQ(filtered.command, CliCommand::list) << filtered.stderr_text;
  EXPECT_EQ(filtered.options.filter, "net");
  EXPECT_EQ(parse({"list", "--bogus"}).exit_code, 2);
}

}  // namespace
}  // namespace provium
