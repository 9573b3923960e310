// Concatenated initramfs archives. The kernel unpacks every cpio it finds in
// the initrd, but an uncompressed newc header must start on a 4-byte boundary
// of the whole image, so parts are separated by zero padding (which the
// unpacker skips).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string_view>

namespace provium {

// Zero bytes needed after `size` bytes to reach a 4-byte boundary.
std::size_t initrd_padding(std::size_t size);

// Streams `path` in chunks to `sink`; returns the number of bytes. Throws
// std::runtime_error naming the path.
std::size_t stream_file(const std::filesystem::path& path, const std::function<void(std::string_view)>& sink);

// Streams first, padding, second to `sink`.
void stream_joined(const std::filesystem::path& first, const std::filesystem::path& second,
                   const std::function<void(std::string_view)>& sink);

}  // namespace provium
