#include "core/utf8.h"

#include <gtest/gtest.h>

using namespace datalab;

TEST(Utf8, FindsTheFirstByteThatIsNotWellFormed) {
  EXPECT_EQ(first_invalid_utf8("plain, ü, 日本, 😀"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8("ab\xff"), 2u);
  EXPECT_EQ(first_invalid_utf8("a\xc0\xaf"), 1u);          // overlong '/'
  EXPECT_EQ(first_invalid_utf8("\xed\xa0\x80"), 0u);        // a UTF-16 surrogate
  EXPECT_EQ(first_invalid_utf8("x\xf4\x90\x80\x80"), 1u);   // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("\xe6\x97"), 0u);            // cut short
  EXPECT_EQ(utf8_sequence_length(reinterpret_cast<const unsigned char*>("\xf0\x9f\x98\x80"), 4), 4u);
}

TEST(Utf8, TellsAsciiFromAnyByteAbove0x7FWhereverItIs) {
  EXPECT_TRUE(is_ascii(""));
  EXPECT_TRUE(is_ascii(std::string(1000, 'a') + std::string("\0\x7f", 2)));
  for (std::size_t at = 0; at < 20; ++at) {  // inside the 8-byte words and in the tail
    std::string text(19, 'x');
    text[at % text.size()] = '\x80';
    EXPECT_FALSE(is_ascii(text)) << at;
  }
  EXPECT_FALSE(is_ascii("caf\xc3\xa9"));
}
