#include "config_loader.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "size.h"
#include "user_paths.h"

namespace provium {
namespace {

namespace fs = std::filesystem;

const std::set<std::string, std::less<>> kTopLevelKeys = {"provium", "profiles"};
const std::set<std::string, std::less<>> kProviumKeys = {"roots", "cache_dir", "cache_max_size", "snapshot_dir"};
const std::set<std::string, std::less<>> kProfileKeys = {"kernel", "initrd",       "cmdline", "guest_os",
                                                         "inject_agent", "agent_overlay_path", "memory", "cpus"};

std::string join(const std::set<std::string, std::less<>>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

bool valid_profile_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Validates one parsed document; every failure goes through fail().
class ConfigReader {
 public:
  ConfigReader(std::string file, fs::path base_dir) : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  Config read(const toml::table& root) {
    Config config;
    config.cache_dir = default_cache_dir();
    config.snapshot_dir = default_snapshot_dir();
    reject_unknown(root, "", kTopLevelKeys);
    if (const auto* node = root.get("provium")) read_provium(as_table(*node, "provium"), config);
    if (const auto* node = root.get("profiles")) {
      for (const auto& [key, value] : as_table(*node, "profiles")) {
        const std::string name(key.str());
        const std::string path = "profiles." + name;
        if (!valid_profile_name(name)) {
          fail(key.source(), path, "a profile name may only use letters, digits, '_', '-' and '.' (at most 64)");
        }
        config.profiles.emplace(name, read_profile(name, as_table(value, path)));
      }
    }
    return config;
  }

 private:
  [[noreturn]] void fail(const toml::source_region& where, const std::string& key, const std::string& message) const {
    if (where.begin.line == 0) throw ConfigError(fmt::format("{}: {}: {}", file_, key, message));
    throw ConfigError(fmt::format("{}:{}: {}: {}", file_, where.begin.line, key, message));
  }

  void reject_unknown(const toml::table& table, const std::string& prefix,
                      const std::set<std::string, std::less<>>& known) const {
    for (const auto& [key, value] : table) {
      if (known.count(key.str()) == 0) {
        fail(key.source(), prefix + std::string(key.str()), fmt::format("unknown key (expected one of: {})", join(known)));
      }
    }
  }

  const toml::table& as_table(const toml::node& node, const std::string& key) const {
    if (const auto* table = node.as_table()) return *table;
    fail(node.source(), key, "must be a table");
  }

  std::string string_value(const toml::node& node, const std::string& key) const {
    if (const auto* text = node.as_string()) return text->get();
    fail(node.source(), key, "must be a string");
  }

  fs::path path_value(const toml::node& node, const std::string& key) const {
    const std::string text = string_value(node, key);
    if (text.empty()) fail(node.source(), key, "must not be empty");
    const fs::path path = expand_home(text);
    return (path.is_absolute() ? path : base_dir_ / path).lexically_normal();
  }

  std::uint64_t size_value(const toml::node& node, const std::string& key) const {
    if (const auto* integer = node.as_integer()) {
      if (integer->get() < 0) fail(node.source(), key, "must not be negative");
      return static_cast<std::uint64_t>(integer->get());
    }
    try {
      return parse_size(string_value(node, key));
    } catch (const std::invalid_argument& error) {
      fail(node.source(), key, error.what());
    }
  }

  void read_provium(const toml::table& table, Config& config) const {
    reject_unknown(table, "provium.", kProviumKeys);
    if (const auto* node = table.get("roots")) {
      const auto* roots = node->as_array();
      if (!roots) fail(node->source(), "provium.roots", "must be an array of strings");
      for (const auto& root : *roots) config.roots.push_back(path_value(root, "provium.roots"));
    }
    if (const auto* node = table.get("cache_dir")) config.cache_dir = path_value(*node, "provium.cache_dir");
    if (const auto* node = table.get("snapshot_dir")) {
      config.snapshot_dir = path_value(*node, "provium.snapshot_dir");
    }
    if (const auto* node = table.get("cache_max_size")) {
      config.cache_max_size = size_value(*node, "provium.cache_max_size");
    }
  }

  Profile read_profile(const std::string& name, const toml::table& table) const {
    const std::string prefix = "profiles." + name + ".";
    reject_unknown(table, prefix, kProfileKeys);
    Profile profile;
    profile.name = name;
    for (const char* required : {"kernel", "initrd", "cmdline"}) {
      if (!table.contains(required)) fail(table.source(), prefix + required, "is required");
    }
    profile.kernel = path_value(*table.get("kernel"), prefix + "kernel");
    profile.initrd = path_value(*table.get("initrd"), prefix + "initrd");
    const auto& cmdline = *table.get("cmdline");
    profile.cmdline = string_value(cmdline, prefix + "cmdline");
    if (profile.cmdline.find_first_not_of(" \t\r\n") == std::string::npos) {
      fail(cmdline.source(), prefix + "cmdline", "must not be empty");
    }
    if (const auto* node = table.get("guest_os")) {
      profile.guest_os = string_value(*node, prefix + "guest_os");
      if (profile.guest_os != "linux") {
        fail(node->source(), prefix + "guest_os", fmt::format("\"{}\" is not supported (only \"linux\")", profile.guest_os));
      }
    }
    if (const auto* node = table.get("inject_agent")) {
      const auto* flag = node->as_boolean();
      if (!flag) fail(node->source(), prefix + "inject_agent", "must be true or false");
      profile.inject_agent = flag->get();
    }
    if (const auto* node = table.get("agent_overlay_path")) {
      profile.agent_overlay = path_value(*node, prefix + "agent_overlay_path");
    }
    if (const auto* node = table.get("memory")) {
      profile.memory_bytes = size_value(*node, prefix + "memory");
      if (profile.memory_bytes < kMinVmMemory || profile.memory_bytes > kMaxVmMemory) {
        fail(node->source(), prefix + "memory", "must be between 64M and 16G");
      }
    }
    if (const auto* node = table.get("cpus")) {
      const auto* cpus = node->as_integer();
      if (!cpus || cpus->get() < 1 || cpus->get() > 256) {
        fail(node->source(), prefix + "cpus", "must be an integer between 1 and 256");
      }
      profile.cpus = static_cast<std::uint32_t>(cpus->get());
    }
    return profile;
  }

  std::string file_;
  fs::path base_dir_;
};

}  // namespace

Config parse_config(std::string_view text, const std::string& display_name, const fs::path& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, display_name);
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    throw ConfigError(fmt::format("{}:{}:{}: invalid TOML: {}", display_name, where.line, where.column,
                                  error.description()));
  }
  return ConfigReader(display_name, base_dir).read(root);
}

Config load_config(const fs::path& path, bool must_exist) {
  std::error_code error;
  const auto status = fs::status(path, error);
  if (!fs::exists(status) && !must_exist) return Config{.cache_dir = default_cache_dir(), .snapshot_dir = default_snapshot_dir()};
  if (fs::is_directory(status)) throw ConfigError(fmt::format("{}: cannot read config: is a directory", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read config: {}", path.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  const fs::path absolute = fs::absolute(path).lexically_normal();
  Config config = parse_config(text.str(), path.string(), absolute.parent_path());
  config.file = absolute;
  return config;
}

}  // namespace provium
