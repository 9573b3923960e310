// A user's initrd with the agent overlay cpio appended, so the agent can run
// as rdinit= next to the user's own /init. Built once per content and cached as
// <cache>/agent-overlay-cache/<sha256 of the merged bytes>.cpio.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace provium {

class AgentOverlayCache {
 public:
  explicit AgentOverlayCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // The merged image's path. Throws std::runtime_error naming the file at fault.
  std::filesystem::path merged(const std::filesystem::path& initrd, const std::filesystem::path& overlay);

 private:
  std::filesystem::path dir_;
  std::map<std::string, std::filesystem::path> built_;  // by input identity (paths, sizes, mtimes)
};

}  // namespace provium
