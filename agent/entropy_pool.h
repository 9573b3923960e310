// addEntropy: gives the guest kernel's random pool bytes from the host and
// reseeds its generator now (RNDADDENTROPY, then RNDRESEEDCRNG), so copies
// of one snapshot diverge at once instead of at the next periodic reseed.
#pragma once

#include <string_view>

namespace provium::agent {

// Throws std::system_error naming the ioctl that failed (EPERM without
// CAP_SYS_ADMIN, EINVAL for more than the kernel takes at once).
void add_entropy(std::string_view bytes);

}  // namespace provium::agent
