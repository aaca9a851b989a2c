#include "formats/records.h"

#include <sstream>

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
  EXPECT_THROW(parse_json_records("5", "t"), Error);
}

TEST(Records, JsonElementsThatAreNotObjectsAreMalformedRowsInPlace) {
  const auto r = parse_json_records(R"([{"a": "x"}, 1, [2, {"b": 3}], {"a": "y"}])", "t.json");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1].at(kMalformedRowField), "element 2 is a JSON number, not an object");
  EXPECT_EQ(r[2].at(kMalformedRowField), "element 3 is a JSON array, not an object");
  EXPECT_EQ(r[3].at("a"), "y");
}

TEST(Records, JsonKeepsTheTypeOfValuesThatAreNotStrings) {
  const auto r = parse_json_records(
      R"({"s": "1", "n": 12, "f": 99999999999999999999, "b": false, "o": {"k": [1]}, "a": [1], "z": null})", "t");
  ASSERT_EQ(r.size(), 1u);
  const auto& rec = r[0];
  EXPECT_EQ(rec.count(std::string(kJsonTypePrefix) + "s"), 0u);
  EXPECT_EQ(rec.at("n"), "12");
  EXPECT_EQ(rec.at(std::string(kJsonTypePrefix) + "n"), "number");
  EXPECT_EQ(rec.at("f"), "99999999999999999999") << "a number is kept as written, not rounded";
  EXPECT_EQ(rec.at(std::string(kJsonTypePrefix) + "b"), "boolean");
  EXPECT_EQ(rec.at(std::string(kJsonTypePrefix) + "o"), "object");
  EXPECT_EQ(rec.at(std::string(kJsonTypePrefix) + "a"), "array");
  EXPECT_EQ(rec.count("z"), 0u);
}

TEST(Records, JsonBytesThatAreNotUtf8CostOnlyTheirValue) {
  const auto r = parse_json_records("[{\"a\": \"x\xff\xc3y\"}, {\"a\": \"caf\xc3\xa9\"}]", "t.json");
  ASSERT_EQ(r.size(), 2u) << "the file is read on past the bad bytes";
  const std::string& bad = r[0].at("a");
  ASSERT_EQ(invalid_utf8_at(bad), 1u);
  EXPECT_EQ(input_byte_at(bad, 1), 0xff);
  EXPECT_EQ(printable(bad), "x\\xff\\xc3y");
  EXPECT_EQ(r[1].at("a"), "caf\xc3\xa9") << "valid UTF-8 passes unchanged";
  EXPECT_FALSE(invalid_utf8_at(r[1].at("a")));
}

TEST(RecordStream, CsvQuotingBlankLinesCrlfAndBytesPassedThrough) {
  using namespace std::string_literals;
  const std::string text = "\xEF\xBB\xBF" "a,b\r\n\"x, \"\"y\"\"\",2\r\n\n\"multi\nline\",3\nn\0l,\xff\n"s;
  const auto r = read_records(text, "t.csv");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].at("a"), "x, \"y\"") << "the BOM is not part of the first name";
  EXPECT_EQ(r[0].at("b"), "2");
  EXPECT_EQ(r[1].at("a"), "multi\nline") << "a quoted line break is part of the value";
  EXPECT_EQ(r[2].at("a"), std::string("n\0l", 3)) << "NUL is kept for validation to reject";
  EXPECT_EQ(r[2].at("b"), "\xff");
}

TEST(RecordStream, UnterminatedQuoteRejectsItsLineAndRereadsWhatItSwallowed) {
  const auto r = read_records("a,b\n1,2\n\"3,4\n5,6\n7,8\n", "t.csv");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[1].at(kMalformedRowField),
            "line 3: unterminated quote starting at line 3 (it ran over 2 more lines, 4–5, to the end of the input; "
            "they are read as rows of their own)");
  EXPECT_EQ(r[2].at("a"), "5");
  EXPECT_EQ(r[3].at("b"), "8");
  // Closed by a later stray quote: the merged record has the wrong field count.
  const auto s = read_records("a,b\n\"1,2\n3,4\nx\"y,5\n", "t.csv");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].at(kMalformedRowField).rfind("line 2: unterminated quote starting at line 2 (it ran over 2 more lines, 3–4;", 0), 0u)
      << s[0].at(kMalformedRowField);
  EXPECT_EQ(s[1].at("a"), "3");
  EXPECT_EQ(s[2].at("a"), "x\"y") << "a quote inside an unquoted value is literal";
}

TEST(RecordStream, WrongFieldCountAndLongFieldsAreMalformedRows) {
  RecordReadOptions options;
  options.max_field_bytes = 5;
  const auto r = read_records("a,b\n1,2,3\n123456,x\n12345,y\n", "t.csv", options);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].at(kMalformedRowField), "line 2: expected 2 fields, found 3");
  EXPECT_EQ(r[1].at(kMalformedRowField), "line 3: field 'a' is 6 bytes, more than the 5 allowed");
  EXPECT_EQ(r[2].at("a"), "12345");
}

TEST(RecordStream, EmptyAndHeaderOnlyInputsAreToldApart) {
  std::istringstream empty(" \n\n");
  const auto e = stream_records(empty, "t", [](TextRecord&&) {});
  EXPECT_TRUE(e.empty);
  std::istringstream header("a,b\n\n");
  const auto h = stream_records(header, "t", [](TextRecord&&) {});
  EXPECT_FALSE(h.empty);
  EXPECT_TRUE(h.header_only);
  EXPECT_EQ(h.records, 0u);
}

TEST(Printable, EscapesWhatCannotBePrinted) {
  EXPECT_EQ(printable(std::string("a\0b\xff\x01é", 7)), "a\\0b\\xff\\x01é");
  EXPECT_EQ(printable("abcdef", 3), "abc...");
  EXPECT_FALSE(invalid_utf8_at("plain é € 𝄞"));
  EXPECT_EQ(invalid_utf8_at("ab\xc3"), 2u);
  EXPECT_EQ(invalid_utf8_at("\xed\xa0\x80"), 0u) << "UTF-16 surrogates are not UTF-8";
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
