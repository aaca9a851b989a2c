#include "formats/records.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/result_table.h"
#include "storage/postgres/postgres_connection.h"

using namespace datalab;

TEST(Records, CsvKeepsTextAndEmptyValues) {
  const auto r = parse_csv_records("first_name,last_name,birth_date\nAnn,\"Lee, Jr.\",1980-01-01\nBob,,01\n", "t.csv");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].at("last_name"), "Lee, Jr.");
  EXPECT_EQ(r[1].at("last_name"), "");
  EXPECT_EQ(r[1].at("birth_date"), "01") << "no type inference: leading zeros survive";
}

TEST(Records, MalformedCsvLineIsKeptInPlaceWithItsReason) {
  const auto r = parse_csv_records("a,b\n1,2\n3,4,5\n6\n7,8\n", "t.csv");
  ASSERT_EQ(r.size(), 4u) << "every line is accounted for";
  EXPECT_EQ(r[0].at("a"), "1");
  EXPECT_EQ(r[1].at(kMalformedRowField), "line 3: expected 2 fields, found 3");
  EXPECT_EQ(r[2].at(kMalformedRowField), "line 4: expected 2 fields, found 1");
  EXPECT_EQ(r[3].at("b"), "8");
}

TEST(Records, JsonObjectsNumbersAndNulls) {
  const auto r = parse_json_records(R"([{"a": "x", "b": 5, "c": null}, {"a": "y"}])", "t.json");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].at("b"), "5");
  EXPECT_EQ(r[0].count("c"), 0u) << "null is a missing value";
  EXPECT_EQ(parse_json_records(R"({"a": "single"})", "t").size(), 1u);
}

TEST(Records, BadJsonNamesTheOrigin) {
  try {
    parse_json_records("[{\"a\": ", "input.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("input.json"), std::string::npos);
  }
  EXPECT_THROW(parse_json_records("[1, 2]", "t"), Error);
}

TEST(PostgresArrayLiteral, QuotesAndEscapes) {
  EXPECT_EQ(to_pg_array({"a", std::nullopt, "say \"hi\"", "back\\slash", "x,y", "NULL"}),
            R"({"a",NULL,"say \"hi\"","back\\slash","x,y","NULL"})");
  EXPECT_EQ(to_pg_array({}), "{}");
  EXPECT_EQ(quote_identifier("we\"ird"), "\"we\"\"ird\"");
}

TEST(ResultTable, RendersTextCsvAndJson) {
  ResultTable t{{"id", "name"}, {ValueKind::Number, ValueKind::Text}, {}};
  t.add_row({"1", "a,b"});
  t.add_row({"22", std::nullopt});
  EXPECT_EQ(render_csv(t), "id,name\n1,\"a,b\"\n22,\n");
  EXPECT_EQ(to_json(t).dump(), R"([{"id":1,"name":"a,b"},{"id":22,"name":null}])");
  const auto text = render_text(t);
  EXPECT_NE(text.find(" 22 | NULL"), std::string::npos) << text;
  EXPECT_NE(text.find("(2 rows)"), std::string::npos);
}
