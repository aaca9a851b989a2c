#include "core/sql_script.h"

#include <gtest/gtest.h>

using namespace datalab;

TEST(SqlScript, SplitsOnTopLevelSemicolons) {
  const auto s = split_sql_script("CREATE TABLE a (x int);\nINSERT INTO a VALUES (1);\n\nSELECT 1");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].text, "CREATE TABLE a (x int)");
  EXPECT_EQ(s[1].text, "INSERT INTO a VALUES (1)");
  EXPECT_EQ(s[2].text, "SELECT 1");
  EXPECT_EQ(s[0].line, 1);
  EXPECT_EQ(s[1].line, 2);
  EXPECT_EQ(s[2].line, 4);
}

TEST(SqlScript, KeepsSemicolonsInsideStringsAndIdentifiers) {
  const auto s = split_sql_script(
      "INSERT INTO t VALUES ('a;b', 'it''s; fine');\nSELECT \"odd;name\" FROM t;\nSELECT E'x\\';y'");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].text, "INSERT INTO t VALUES ('a;b', 'it''s; fine')");
  EXPECT_EQ(s[1].text, "SELECT \"odd;name\" FROM t");
  EXPECT_EQ(s[2].text, "SELECT E'x\\';y'");
}

TEST(SqlScript, KeepsDollarQuotedBodiesWhole) {
  const std::string fn =
      "CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  PERFORM 1;\n  RETURN 2;\nEND;\n$$ LANGUAGE plpgsql";
  const std::string tagged = "DO $body$ BEGIN RAISE NOTICE 'a;b'; END $body$";
  const auto s = split_sql_script(fn + ";\n" + tagged + ";\nSELECT $1::int;");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].text, fn);
  EXPECT_EQ(s[1].text, tagged);
  EXPECT_EQ(s[2].text, "SELECT $1::int");
}

TEST(SqlScript, IgnoresCommentsAndEmptyStatements) {
  const auto s = split_sql_script("-- header; with semicolon\n;;\n/* block; comment */\nSELECT 1; -- tail;\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].text, "SELECT 1");
  EXPECT_EQ(s[0].line, 4);
}
