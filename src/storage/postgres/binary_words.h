#pragma once
// Big-endian words and epochs of PostgreSQL's binary COPY format, shared by the encoder and
// the reader of this connector.
#include <cstdint>
#include <cstring>
#include <string>

namespace datalab::pg_binary {

// Days and microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
constexpr int32_t kEpochDays = 10957;
constexpr int64_t kEpochMicros = 946684800LL * 1000000;

inline void put16(std::string& out, uint16_t v) {
  v = __builtin_bswap16(v);
  out.append(reinterpret_cast<const char*>(&v), 2);
}
inline void put32(std::string& out, uint32_t v) {
  v = __builtin_bswap32(v);
  out.append(reinterpret_cast<const char*>(&v), 4);
}
inline void put64(std::string& out, uint64_t v) {
  v = __builtin_bswap64(v);
  out.append(reinterpret_cast<const char*>(&v), 8);
}

// The same into memory reserved beforehand (the COPY encoder sizes a batch's output first).
inline void store16(char*& p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, 2);
  p += 2;
}
inline void store32(char*& p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
  p += 4;
}
inline void store64(char*& p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
  p += 8;
}

inline uint16_t be16(const char* p) {
  return static_cast<uint16_t>((static_cast<uint8_t>(p[0]) << 8) | static_cast<uint8_t>(p[1]));
}
inline uint32_t be32(const char* p) { return (uint32_t{be16(p)} << 16) | be16(p + 2); }
inline uint64_t be64(const char* p) { return (uint64_t{be32(p)} << 32) | be32(p + 4); }

}  // namespace datalab::pg_binary
