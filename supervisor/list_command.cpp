#include "list_command.h"

#include <filesystem>

#include "config_loader.h"
#include "discovery.h"
#include "exit_codes.h"
#include "fixture_discovery.h"
#include "run_plan.h"

namespace provium {

int run_list(const RunOptions& options, std::ostream& out, std::ostream& err) {
  namespace fs = std::filesystem;
  const fs::path cwd = fs::current_path();
  try {
    const Config config = load_config(options.config_path, options.config_path_explicit);
    const std::vector<fs::path> scanned = paths_to_scan(options, config, cwd);
    if (!options.list_fixtures) {
      for (const TestFile& file : discover_test_files(scanned, options.filter, cwd)) out << file.display << "\n";
    } else {
      for (const FoundFixture& found : discover_fixtures(scanned, module_roots(scanned, config, cwd))) {
        if (!options.filter.empty() && found.file.name.find(options.filter) == std::string::npos) continue;
        out << display_path(found.file.path, cwd) << "\n";
      }
    }
  } catch (const std::exception& error) {
    err << "provium: list: " << error.what() << "\n";
    return kExitInternalError;
  }
  out << std::flush;
  return out ? kExitOk : kExitInternalError;
}

}  // namespace provium
