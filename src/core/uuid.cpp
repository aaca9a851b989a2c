#include "core/uuid.h"

#include <cstdint>
#include <random>

#include <fmt/format.h>

namespace datalab {

std::string random_uuid() {
  static thread_local std::mt19937_64 engine{std::random_device{}() ^ (uint64_t{std::random_device{}()} << 32)};
  uint64_t high = engine(), low = engine();
  high = (high & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  low = (low & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;    // RFC 4122 variant
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", high >> 32, (high >> 16) & 0xFFFF, high & 0xFFFF,
                     low >> 48, low & 0xFFFFFFFFFFFFULL);
}

}  // namespace datalab
