// The pieces of the ClickHouse connector that need no server: Native encoding, quoting,
// error and version parsing, and the choice of optimization by server version.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include <arrow/api.h>
#include <fmt/format.h>

#include "core/error.h"
#include "modules/clickhouse/web_log_analytics.h"
#include "storage/clickhouse/clickhouse_client.h"
#include "storage/clickhouse/clickhouse_sql.h"
#include "storage/clickhouse/native_block_decoder.h"
#include "storage/clickhouse/native_block_encoder.h"

namespace datalab::clickhouse {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) out += static_cast<char>(v);
  return out;
}

TEST(ClickHouseNativeEncoderTest, MatchesTheBytesClickHouseWrites) {
  // What `clickhouse-client -q "SELECT toUInt32(number) a, toString(number) s FROM numbers(3)
  // FORMAT Native"` prints, taken from the real server.
  arrow::UInt32Builder a;
  arrow::StringBuilder s;
  ASSERT_TRUE(a.AppendValues({0, 1, 2}).ok());
  ASSERT_TRUE(s.AppendValues({"0", "1", "2"}).ok());
  auto schema = arrow::schema({arrow::field("a", arrow::uint32(), false), arrow::field("s", arrow::utf8(), false)});
  auto batch = arrow::RecordBatch::Make(schema, 3, {a.Finish().ValueOrDie(), s.Finish().ValueOrDie()});
  std::string out;
  NativeBlockEncoder(schema).encode(*batch, out);
  const std::string expected = bytes({2, 3, 1, 'a', 6, 'U', 'I', 'n', 't', '3', '2', 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
                                      1, 's', 6, 'S', 't', 'r', 'i', 'n', 'g', 1, '0', 1, '1', 1, '2'});
  EXPECT_EQ(out, expected);
}

TEST(ClickHouseNativeEncoderTest, MapsArrowTypesAndNullable) {
  EXPECT_EQ(NativeBlockEncoder::clickhouse_type(*arrow::timestamp(arrow::TimeUnit::SECOND, "UTC")), "DateTime");
  EXPECT_EQ(NativeBlockEncoder::clickhouse_type(*arrow::timestamp(arrow::TimeUnit::MICRO)), "");
  EXPECT_EQ(NativeBlockEncoder::clickhouse_type(*arrow::date32()), "Date");
  EXPECT_EQ(NativeBlockEncoder::clickhouse_type(*arrow::uint16()), "UInt16");
  EXPECT_EQ(NativeBlockEncoder::clickhouse_type(*arrow::float64()), "Float64");
  EXPECT_THROW(NativeBlockEncoder(arrow::schema({arrow::field("x", arrow::list(arrow::int32()))})), Error);

  // Nullable: a null map byte per row, then the values with a placeholder at the null.
  arrow::Int32Builder builder;
  ASSERT_TRUE(builder.Append(7).ok());
  ASSERT_TRUE(builder.AppendNull().ok());
  auto schema = arrow::schema({arrow::field("n", arrow::int32(), true)});
  auto batch = arrow::RecordBatch::Make(schema, 2, {builder.Finish().ValueOrDie()});
  NativeBlockEncoder encoder(schema);
  EXPECT_EQ(encoder.clickhouse_types().front(), "Nullable(Int32)");
  std::string out;
  encoder.encode(*batch, out);
  const std::string header = bytes({1, 2, 1, 'n', 15}) + "Nullable(Int32)";
  ASSERT_EQ(out.substr(0, header.size()), header);
  EXPECT_EQ(out.substr(header.size(), 2), bytes({0, 1}));
  EXPECT_EQ(out.substr(header.size() + 2, 4), bytes({7, 0, 0, 0}));
}

// The column's data after its name and type in a one-column block.
std::string column_data(const std::string& block, const std::string& name, const std::string& type) {
  const std::string header = bytes({1}) + block.substr(1, 1) + static_cast<char>(name.size()) + name +
                             static_cast<char>(type.size()) + type;
  EXPECT_EQ(block.substr(0, header.size()), header);
  return block.substr(header.size());
}

TEST(ClickHouseNativeEncoderTest, DecimalsAreLittleEndianUnscaledIntegersOfThePrecisionsWidth) {
  // Decimal32 for P <= 9, Decimal64 for P <= 18, Decimal128 above; -1.25 at scale 2 is -125.
  for (const auto& [precision, width] : std::vector<std::pair<int, int>>{{9, 4}, {18, 8}, {38, 16}}) {
    const auto type = arrow::decimal128(precision, 2);
    arrow::Decimal128Builder builder(type);
    ASSERT_TRUE(builder.Append(arrow::Decimal128(-125)).ok());
    ASSERT_TRUE(builder.Append(arrow::Decimal128(3)).ok());
    auto schema = arrow::schema({arrow::field("d", type, false)});
    auto batch = arrow::RecordBatch::Make(schema, 2, {builder.Finish().ValueOrDie()});
    std::string out;
    NativeBlockEncoder(schema).encode(*batch, out);
    const std::string name = fmt::format("Decimal({}, 2)", precision);
    EXPECT_EQ(NativeBlockEncoder::clickhouse_type(*type), name);
    std::string expected(static_cast<std::size_t>(width), '\xff');
    expected[0] = static_cast<char>(-125);
    std::string three(static_cast<std::size_t>(width), '\0');
    three[0] = 3;
    EXPECT_EQ(column_data(out, "d", name), expected + three) << precision;
  }
}

TEST(ClickHouseNativeEncoderTest, RefusesDatesBefore1970NamingTheColumnAndRows) {
  arrow::Date32Builder builder;
  ASSERT_TRUE(builder.AppendValues({0, -1}).ok());  // 1970-01-01, 1969-12-31
  auto schema = arrow::schema({arrow::field("born", arrow::date32(), false)});
  auto batch = arrow::RecordBatch::Make(schema, 2, {builder.Finish().ValueOrDie()});
  std::string out;
  try {
    NativeBlockEncoder(schema).encode(*batch, out, 100);
    FAIL() << "a date before 1970 was encoded";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("column 'born'"), std::string::npos) << message;
    EXPECT_NE(message.find("1969-12-31"), std::string::npos) << message;
    EXPECT_NE(message.find("row 102"), std::string::npos) << message;
    EXPECT_NE(message.find("rows 101-102"), std::string::npos) << message;
  }
  // A negative timestamp does not wrap into DateTime either.
  arrow::TimestampBuilder seconds(arrow::timestamp(arrow::TimeUnit::SECOND), arrow::default_memory_pool());
  ASSERT_TRUE(seconds.Append(-1).ok());
  auto ts_schema = arrow::schema({arrow::field("t", arrow::timestamp(arrow::TimeUnit::SECOND), false)});
  auto ts_batch = arrow::RecordBatch::Make(ts_schema, 1, {seconds.Finish().ValueOrDie()});
  EXPECT_THROW(NativeBlockEncoder(ts_schema).encode(*ts_batch, out), ConfigError);
}

TEST(ClickHouseNativeEncoderTest, ReadsClickHouseTypesAsArrowFields) {
  EXPECT_TRUE(NativeBlockEncoder::arrow_field("a", "Int64")->Equals(*arrow::field("a", arrow::int64(), false)));
  EXPECT_TRUE(NativeBlockEncoder::arrow_field("a", "Nullable(String)")->Equals(*arrow::field("a", arrow::utf8(), true)));
  EXPECT_TRUE(NativeBlockEncoder::arrow_field("a", "Decimal(38, 10)")->type()->Equals(*arrow::decimal128(38, 10)));
  EXPECT_TRUE(NativeBlockEncoder::arrow_field("a", "Decimal64(4)")->type()->Equals(*arrow::decimal128(18, 4)));
  EXPECT_TRUE(NativeBlockEncoder::arrow_field("a", "DateTime")->type()->Equals(*arrow::timestamp(arrow::TimeUnit::SECOND)));
  EXPECT_EQ(NativeBlockEncoder::arrow_field("a", "Array(Int32)"), nullptr);
  EXPECT_EQ(NativeBlockEncoder::arrow_field("a", "DateTime('UTC')"), nullptr);
  // Every type the encoder sends reads back as itself.
  for (const auto& type : {arrow::int8(), arrow::uint64(), arrow::float32(), arrow::utf8(), arrow::date32(),
                           arrow::decimal128(12, 2)}) {
    EXPECT_TRUE(NativeBlockEncoder::arrow_field("x", NativeBlockEncoder::clickhouse_type(*type))->type()->Equals(*type))
        << type->ToString();
  }
}

TEST(ClickHouseNativeDecoderTest, ReadsBackWhatTheEncoderWritesBlockByBlock) {
  arrow::Int64Builder ids;
  arrow::StringBuilder names;
  arrow::Decimal128Builder prices(arrow::decimal128(12, 2));
  arrow::Date32Builder days;
  ASSERT_TRUE(ids.AppendValues({1, -2, 3}).ok());
  ASSERT_TRUE(names.Append("tab\there 😀").ok());
  ASSERT_TRUE(names.AppendNull().ok());
  ASSERT_TRUE(names.Append("").ok());
  ASSERT_TRUE(prices.Append(arrow::Decimal128(-1)).ok());
  ASSERT_TRUE(prices.Append(arrow::Decimal128(999999999999LL)).ok());
  ASSERT_TRUE(prices.AppendNull().ok());
  ASSERT_TRUE(days.AppendValues({0, 19000, 65535}).ok());
  auto schema = arrow::schema({arrow::field("id", arrow::int64(), false), arrow::field("name", arrow::utf8(), true),
                               arrow::field("price", arrow::decimal128(12, 2), true),
                               arrow::field("day", arrow::date32(), false)});
  auto batch = arrow::RecordBatch::Make(schema, 3, {ids.Finish().ValueOrDie(), names.Finish().ValueOrDie(),
                                                    prices.Finish().ValueOrDie(), days.Finish().ValueOrDie()});
  std::string data;
  NativeBlockEncoder encoder(schema);
  encoder.encode(*batch, data);
  encoder.encode(*batch->Slice(1), data);
  std::size_t at = 0;
  NativeBlockDecoder decoder(schema, [&](char* out, std::size_t n) {
    n = std::min<std::size_t>({n, data.size() - at, 5});  // a few bytes at a time, as a network may give them
    std::memcpy(out, data.data() + at, n);
    at += n;
    return n;
  });
  const auto first = decoder.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->Equals(*batch)) << first->ToString();
  const auto second = decoder.next();
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->Equals(*batch->Slice(1))) << second->ToString();
  EXPECT_EQ(decoder.next(), nullptr);
}

TEST(ClickHouseNativeDecoderTest, AnErrorAfterSomeBlocksIsThrownAsTheServersError) {
  auto schema = arrow::schema({arrow::field("n", arrow::uint8(), false)});
  std::string data = bytes({1, 1, 1, 'n', 5}) + "UInt8" + bytes({42}) +
                     "Code: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function is non zero\n";
  std::size_t at = 0;
  NativeBlockDecoder decoder(schema, [&](char* out, std::size_t n) {
    n = std::min(n, data.size() - at);
    std::memcpy(out, data.data() + at, n);
    at += n;
    return n;
  });
  ASSERT_EQ(decoder.next()->num_rows(), 1);
  try {
    decoder.next();
    FAIL() << "the error text was read as a block";
  } catch (const ClickHouseError& e) {
    EXPECT_EQ(e.code(), 395);
    EXPECT_NE(std::string(e.what()).find("throwIf"), std::string::npos) << e.what();
  }
}

TEST(ClickHouseNativeEncoderTest, VarUIntIsLeb128) {
  std::string out;
  append_varuint(out, 300);
  EXPECT_EQ(out, bytes({0xAC, 0x02}));
}

TEST(ClickHouseSqlTest, QuotesStringsAndIdentifiers) {
  EXPECT_EQ(quote_string("it's"), "'it\\'s'");
  EXPECT_EQ(quote_string("a\\b\nc"), "'a\\\\b\\nc'");
  EXPECT_EQ(quote_string("x'); DROP TABLE web_logs; --"), "'x\\'); DROP TABLE web_logs; --'");
  EXPECT_EQ(quote_identifier("web`logs"), "`web\\`logs`");
}

TEST(ClickHouseSqlTest, ParsesServerErrorsOfOldAndNewServers) {
  const auto old_style =
      parse_server_error("Code: 81, e.displayText() = DB::Exception: Database nope doesn't exist, e.what() = DB::Exception\n");
  EXPECT_EQ(old_style.code, 81);
  EXPECT_EQ(old_style.message, "Database nope doesn't exist");
  const auto new_style = parse_server_error(
      "Code: 516. DB::Exception: it_one: Authentication failed: password is incorrect. (AUTHENTICATION_FAILED) "
      "(version 25.11.1.1 (official build))");
  EXPECT_EQ(new_style.code, 516);
  EXPECT_EQ(new_style.message, "it_one: Authentication failed: password is incorrect. (AUTHENTICATION_FAILED)");
}

TEST(ClickHouseSqlTest, ParsesVersionsAndChoosesTheOptimization) {
  const auto v = parse_server_version("18.16.1");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->major, 18);
  EXPECT_EQ(v->minor, 16);
  EXPECT_FALSE(parse_server_version("garbage"));
  EXPECT_EQ(ServerFeatures::from_version("18.16.1").best_optimization(), Optimization::MaterializedView);
  EXPECT_EQ(ServerFeatures::from_version("22.3.2.1").best_optimization(), Optimization::Projection);
  EXPECT_EQ(ServerFeatures::from_version("25.11.1.1").best_optimization(), Optimization::Projection);
  EXPECT_FALSE(ServerFeatures::from_version("21.8.1").projections);
}

TEST(ClickHouseSqlTest, GzipRoundTripsThroughZlib) {
  const std::string data(100000, 'x');
  const std::string packed = gzip_compress(data, 1);
  EXPECT_LT(packed.size(), data.size() / 50);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
}

TEST(ClickHouseSqlTest, QueryIdsAreUnique) { EXPECT_NE(new_query_id("a"), new_query_id("a")); }

}  // namespace
}  // namespace datalab::clickhouse
