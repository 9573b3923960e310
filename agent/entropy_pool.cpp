#include "entropy_pool.h"

#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "unique_fd.h"

namespace provium::agent {

namespace {
constexpr std::size_t kMaxBytes = 4096;
}  // namespace

void add_entropy(std::string_view bytes) {
  if (bytes.empty() || bytes.size() > kMaxBytes) {
    throw std::system_error(EINVAL, std::generic_category(), "addEntropy: give 1 to 4096 bytes");
  }
  UniqueFd random(::open("/dev/urandom", O_WRONLY | O_CLOEXEC));
  if (!random.valid()) throw std::system_error(errno, std::generic_category(), "addEntropy: open /dev/urandom");
  std::vector<char> buffer(sizeof(rand_pool_info) + bytes.size());
  auto* info = reinterpret_cast<rand_pool_info*>(buffer.data());
  info->entropy_count = static_cast<int>(bytes.size() * 8);
  info->buf_size = static_cast<int>(bytes.size());
  std::memcpy(info->buf, bytes.data(), bytes.size());
  if (::ioctl(random.get(), RNDADDENTROPY, info) != 0) {
    throw std::system_error(errno, std::generic_category(), "addEntropy: RNDADDENTROPY");
  }
  if (::ioctl(random.get(), RNDRESEEDCRNG) != 0) {
    throw std::system_error(errno, std::generic_category(), "addEntropy: RNDRESEEDCRNG");
  }
}

}  // namespace provium::agent
