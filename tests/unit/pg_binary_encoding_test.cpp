#include "storage/postgres/copy_binary_encoder.h"
#include "storage/postgres/pg_types.h"

#include <arrow/util/decimal.h>
#include <gtest/gtest.h>

#include "core/error.h"

using namespace datalab;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

}  // namespace

TEST(CopyBinaryEncoder, HeaderAndTrailer) {
  std::string out;
  append_copy_binary_header(out);
  append_copy_binary_trailer(out);
  EXPECT_EQ(out, std::string("PGCOPY\n\xff\r\n\0", 11) + std::string(8, '\0') + bytes({0xff, 0xff}));
}

TEST(CopyBinaryEncoder, EncodesEachTypeBigEndianWithNulls) {
  arrow::Int64Builder ids;
  arrow::StringBuilder names;
  arrow::Date32Builder dates;
  arrow::Int32Builder small;
  ASSERT_TRUE(ids.AppendValues({1, 258}).ok());
  ASSERT_TRUE(names.Append("ab").ok());
  ASSERT_TRUE(names.AppendNull().ok());
  ASSERT_TRUE(dates.AppendValues({10957, 10958}).ok());  // 2000-01-01 and 2000-01-02
  ASSERT_TRUE(small.AppendValues({-1, 7}).ok());
  auto schema = arrow::schema({arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8()),
                               arrow::field("day", arrow::date32()), arrow::field("n", arrow::int32())});
  auto batch = arrow::RecordBatch::Make(schema, 2, {*ids.Finish(), *names.Finish(), *dates.Finish(), *small.Finish()});

  CopyBuffer out;
  CopyBinaryEncoder(schema).append_batch(*batch, out);
  const std::string expected =
      // row 1: 4 fields; id=1; name="ab"; day=0 (PostgreSQL epoch); n=-1
      bytes({0, 4}) + bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1}) + bytes({0, 0, 0, 2}) + "ab" +
      bytes({0, 0, 0, 4, 0, 0, 0, 0}) + bytes({0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff}) +
      // row 2: id=258; name NULL (length -1); day=1; n=7
      bytes({0, 4}) + bytes({0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 1, 2}) + bytes({0xff, 0xff, 0xff, 0xff}) +
      bytes({0, 0, 0, 4, 0, 0, 0, 1}) + bytes({0, 0, 0, 4, 0, 0, 0, 7});
  EXPECT_EQ(out.view(), expected);
}

TEST(CopyBinaryEncoder, TimestampsAreMicrosecondsSince2000) {
  arrow::TimestampBuilder ts(arrow::timestamp(arrow::TimeUnit::SECOND), arrow::default_memory_pool());
  ASSERT_TRUE(ts.Append(946684800 + 1).ok());  // 2000-01-01 00:00:01
  auto schema = arrow::schema({arrow::field("t", arrow::timestamp(arrow::TimeUnit::SECOND))});
  auto batch = arrow::RecordBatch::Make(schema, 1, {*ts.Finish()});
  CopyBuffer out;
  CopyBinaryEncoder(schema).append_batch(*batch, out);
  EXPECT_EQ(out.view(), bytes({0, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40}));  // 1,000,000 µs
}

TEST(CopyBinaryEncoder, NumericFromDecimal) {
  // 123.45 -> digits [123, 4500], weight 0, positive, dscale 2
  EXPECT_EQ(encode_pg_numeric("12345", 2), bytes({0, 2, 0, 0, 0, 0, 0, 2, 0, 123, 0x11, 0x94}));
  // -0.05 -> digits [500], weight -1, negative, dscale 2
  EXPECT_EQ(encode_pg_numeric("-5", 2), bytes({0, 1, 0xff, 0xff, 0x40, 0, 0, 2, 0x01, 0xf4}));
  // 10000 -> digits [1], weight 1, dscale 0
  EXPECT_EQ(encode_pg_numeric("10000", 0), bytes({0, 1, 0, 1, 0, 0, 0, 0, 0, 1}));
  // zero -> no digits
  EXPECT_EQ(encode_pg_numeric("0", 2), bytes({0, 0, 0, 0, 0, 0, 0, 2}));
}

TEST(CopyBinaryEncoder, RejectsUnsupportedTypesByName) {
  auto schema = arrow::schema({arrow::field("tags", arrow::list(arrow::utf8()))});
  try {
    CopyBinaryEncoder encoder(schema);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tags"), std::string::npos);
  }
}
