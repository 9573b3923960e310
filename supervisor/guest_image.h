// The kernel and initrd of one boot as open file descriptors. QEMU reads them
// through /dev/fd/N, so it needs no access to the directories they live in
// (QEMU runs as nobody when we are root) and cannot be handed a file swapped
// in after our checks.
#pragma once

#include <filesystem>
#include <vector>

#include <kj/io.h>

#include "vm_request.h"

namespace provium {

struct GuestImage {
  kj::AutoCloseFd kernel;
  kj::AutoCloseFd initrd;
};

// `initrd` is used as is, unless `files` is non-empty: then a sealed memfd
// holds the initrd followed by a cpio of the files. With `unprivileged_reader`
// a file that others may not read is copied into a memfd as well. Throws
// std::runtime_error naming the file.
GuestImage open_guest_image(const std::filesystem::path& kernel, const std::filesystem::path& initrd,
                            const std::vector<GuestFile>& files, bool unprivileged_reader);

}  // namespace provium
