#include "storage/postgres/copy_tuple_decoder.h"

#include <random>

#include <arrow/util/decimal.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "storage/postgres/copy_binary_encoder.h"
#include "storage/postgres/pg_types.h"

using namespace datalab;

namespace {

// One binary COPY tuple of a single numeric field.
std::string numeric_tuple(const std::string& unscaled, int scale) {
  const std::string value = encode_pg_numeric(unscaled, scale);
  std::string tuple;
  tuple.push_back(0);
  tuple.push_back(1);
  const uint32_t size = static_cast<uint32_t>(value.size());
  for (int shift = 24; shift >= 0; shift -= 8) tuple.push_back(static_cast<char>((size >> shift) & 0xff));
  return tuple + value;
}

// `unscaled` at `scale` read as decimal(precision, to_scale), printed ("123.45").
std::string decode_numeric(const std::string& unscaled, int scale, int precision, int to_scale) {
  auto type = arrow::decimal128(precision, to_scale);
  CopyTupleDecoder decoder(arrow::schema({arrow::field("amount", type)}), 16);
  const std::string tuple = numeric_tuple(unscaled, scale);
  EXPECT_EQ(decoder.append_tuple(tuple.data(), tuple.data() + tuple.size()), tuple.data() + tuple.size());
  auto batch = decoder.finish_batch();
  return static_cast<const arrow::Decimal128Array&>(*batch->column(0)).FormatValue(0);
}

std::string to_string(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  std::string digits;
  for (; v != 0; v /= 10) digits.insert(digits.begin(), static_cast<char>('0' + (negative ? -(v % 10) : v % 10)));
  return (negative ? "-" : "") + digits;
}

}  // namespace

TEST(CopyTupleDecoder, ReadsBackWhatTheEncoderWritesNullsIncluded) {
  arrow::Int64Builder ids;
  arrow::StringBuilder names;
  arrow::Date32Builder days;
  arrow::TimestampBuilder at(arrow::timestamp(arrow::TimeUnit::MICRO, "UTC"), arrow::default_memory_pool());
  arrow::Decimal128Builder amounts(arrow::decimal128(12, 2));
  arrow::BooleanBuilder flags;
  ASSERT_TRUE(ids.AppendValues({1, -7, 3}).ok());
  ASSERT_TRUE(names.Append("ä ß 東京").ok());
  ASSERT_TRUE(names.AppendNull().ok());
  ASSERT_TRUE(names.Append("").ok());
  ASSERT_TRUE(days.AppendValues({0, -1, 20000}).ok());
  ASSERT_TRUE(at.AppendValues({0, -1, 1'700'000'000'123'456}).ok());
  ASSERT_TRUE(amounts.Append(arrow::Decimal128(12345)).ok());
  ASSERT_TRUE(amounts.Append(arrow::Decimal128(-5)).ok());
  ASSERT_TRUE(amounts.AppendNull().ok());
  ASSERT_TRUE(flags.AppendValues(std::vector<bool>{true, false, true}).ok());
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8()),
                               arrow::field("day", arrow::date32()), arrow::field("at", at.type()),
                               arrow::field("amount", amounts.type()), arrow::field("flag", arrow::boolean())});
  auto batch = arrow::RecordBatch::Make(
      schema, 3, {*ids.Finish(), *names.Finish(), *days.Finish(), *at.Finish(), *amounts.Finish(), *flags.Finish()});

  CopyBuffer encoded;
  CopyBinaryEncoder(schema).append_batch(*batch, encoded);
  CopyTupleDecoder decoder(schema, 2);
  const char* p = encoded.data();
  const char* end = p + encoded.size();
  for (int row = 0; row < 2; ++row) p = decoder.append_tuple(p, end);
  EXPECT_EQ(decoder.pending_rows(), 2);
  auto first = decoder.finish_batch();
  p = decoder.append_tuple(p, end);
  EXPECT_EQ(p, end);
  auto second = decoder.finish_batch();
  EXPECT_EQ(decoder.pending_rows(), 0);
  ASSERT_EQ(first->num_rows(), 2);
  ASSERT_EQ(second->num_rows(), 1);
  EXPECT_TRUE(first->Equals(*batch->Slice(0, 2))) << first->ToString();
  EXPECT_TRUE(second->Equals(*batch->Slice(2, 1))) << second->ToString();
}

TEST(CopyTupleDecoder, RescalesNumericRoundingHalfUp) {
  EXPECT_EQ(decode_numeric("12345", 2, 12, 2), "123.45");
  EXPECT_EQ(decode_numeric("12345", 2, 12, 4), "123.4500");
  EXPECT_EQ(decode_numeric("12345", 2, 12, 1), "123.5");
  EXPECT_EQ(decode_numeric("-12345", 2, 12, 1), "-123.5");
  EXPECT_EQ(decode_numeric("12344", 2, 12, 1), "123.4");
  EXPECT_EQ(decode_numeric("10000", 0, 12, 2), "10000.00");
  EXPECT_EQ(decode_numeric("0", 2, 12, 2), "0.00");
  EXPECT_EQ(decode_numeric("5", 3, 12, 2), "0.01");    // 0.005 rounds up
  EXPECT_EQ(decode_numeric("4", 3, 12, 2), "0.00");    // 0.004 rounds down
  EXPECT_EQ(decode_numeric("1", 9, 12, 2), "0.00");    // far below the scale
  EXPECT_EQ(decode_numeric("99995", 4, 5, 3), "10.000");  // 9.9995 rounds up into the next digit
}

TEST(CopyTupleDecoder, NumericOutsideThePrecisionIsAnErrorNamingTheColumn) {
  for (const auto& [unscaled, scale, precision, to_scale] :
       std::vector<std::tuple<std::string, int, int, int>>{{"100000", 0, 5, 0},
                                                          {"12345", 0, 5, 2},
                                                          {"99995", 4, 4, 3},
                                                          {"123456789012345678901234567890123456789", 0, 38, 0}}) {
    try {
      decode_numeric(unscaled, scale, precision, to_scale);
      ADD_FAILURE() << unscaled << " at scale " << scale << " fits decimal(" << precision << "," << to_scale << ")";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("column amount"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos) << e.what();
    }
  }
}

// Random numbers at random scales, read at other scales, against the same arithmetic done
// on the unscaled integer.
TEST(CopyTupleDecoder, NumericMatchesIntegerArithmeticOnRandomValues) {
  std::mt19937_64 random(7);
  for (int i = 0; i < 20000; ++i) {
    const int digits = 1 + static_cast<int>(random() % 27);  // with 11 more after the point: within 38
    __int128 unscaled = 0;
    for (int d = 0; d < digits; ++d) unscaled = unscaled * 10 + static_cast<int>(random() % 10);
    if (random() % 2) unscaled = -unscaled;
    const int scale = static_cast<int>(random() % 12);
    const int to_scale = static_cast<int>(random() % 12);
    const int precision = 38;
    __int128 expected = unscaled < 0 ? -unscaled : unscaled;
    if (to_scale >= scale) {
      for (int k = scale; k < to_scale; ++k) expected *= 10;
    } else {
      __int128 divisor = 1;
      for (int k = to_scale; k < scale - 1; ++k) divisor *= 10;
      const int round_digit = static_cast<int>(expected / divisor % 10);
      expected = expected / divisor / 10 + (round_digit >= 5 ? 1 : 0);
    }
    if (unscaled < 0) expected = -expected;
    const std::string got = decode_numeric(to_string(unscaled), scale, precision, to_scale);
    const std::string want = arrow::Decimal128(static_cast<int64_t>(expected >> 64), static_cast<uint64_t>(expected))
                                 .ToString(to_scale);
    ASSERT_EQ(got, want) << to_string(unscaled) << " at scale " << scale << " read at scale " << to_scale;
  }
}

TEST(CopyTupleDecoder, RefusesATupleOfAnotherWidthOrCutShort) {
  auto schema = arrow::schema({arrow::field("a", arrow::int64()), arrow::field("b", arrow::int64())});
  CopyTupleDecoder decoder(schema, 16);
  const std::string one_field = numeric_tuple("1", 0);
  EXPECT_THROW(decoder.append_tuple(one_field.data(), one_field.data() + one_field.size()), Error);
  const std::string cut = std::string("\0\2\0\0\0\x08\0\0", 8);
  EXPECT_THROW(decoder.append_tuple(cut.data(), cut.data() + cut.size()), Error);
}
