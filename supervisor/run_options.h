// Everything the command line decides for a test run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "accel_choice.h"
#include "datapath_choice.h"
#include "duration.h"
#include "verbosity.h"

namespace provium {

// Which backend runs the VMs: QEMU, or (`--vmm local`) provium-agent
// sandboxed on this host with no kernel.
enum class Vmm { qemu, local };

struct MetaMatch {
  std::string key;
  std::string value;
};

// Per-test selection, forwarded to the runner inside FileJob.filter.
struct TestSelection {
  bool include_slow = false;
  std::vector<std::string> tags;
  std::vector<std::string> no_tags;
  std::vector<MetaMatch> tag_meta;
  std::vector<MetaMatch> no_tag_meta;
};

struct RunOptions {
  std::vector<std::string> paths;       // empty: config roots, else the cwd
  std::string config_path = "provium.toml";
  bool config_path_explicit = false;    // an explicit --config must exist
  std::string filter;                   // substring of the root-relative path
  TestSelection selection;
  Millis timeout{300'000};              // per file; zero disables
  bool fail_fast = false;
  Verbosity verbosity = Verbosity::normal;
  bool json = false;
  bool preflight = true;
  AccelChoice accel = AccelChoice::automatic;
  Vmm vmm = Vmm::qemu;
  NetDatapath net = NetDatapath::automatic;  // --net
  bool test_hooks = false;              // hidden: Provium's own test suite
  // Event stream sinks (docs/events.md).
  std::optional<std::string> save_events;    // --save-events PATH
  bool events_stdout = false;                // --events-stdout (the report goes to stderr)
  std::optional<std::string> events_socket;  // --events-socket PATH
  bool list_fixtures = false;                // `provium list --fixtures`
};

}  // namespace provium
