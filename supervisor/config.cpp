#include "config.h"

namespace provium {

const Profile* Config::find_profile(const std::string& name) const {
  const auto found = profiles.find(name);
  return found == profiles.end() ? nullptr : &found->second;
}

std::string Config::profile_names() const {
  std::string names;
  for (const auto& [name, profile] : profiles) {
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names.empty() ? "(none)" : names;
}

}  // namespace provium
