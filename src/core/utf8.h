#pragma once
// Well-formed UTF-8 (RFC 3629: no overlong forms, no UTF-16 surrogates, nothing past U+10FFFF),
// for the readers and the HTTP service that must tell it from other bytes.
#include <cstddef>
#include <optional>
#include <string_view>

namespace datalab {

// Length of the well-formed UTF-8 sequence at the start of `p[0..n)` (1 to 4), 0 when there is none.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t n);
// True when every byte is below 0x80 (ASCII, so well-formed UTF-8): eight bytes per step.
bool is_ascii(std::string_view text);
// Offset of the first byte that does not start a well-formed sequence; nullopt when all do.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

}  // namespace datalab
