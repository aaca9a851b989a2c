// pgoutput messages as the server sends them (built byte by byte from the protocol's
// documentation), decoded; and the Debezium-shaped JSON made of them.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "core/error.h"
#include "storage/postgres/binary_words.h"
#include "storage/postgres/logical_replication.h"
#include "storage/postgres/pgoutput.h"
#include "transfer/cdc/change_json.h"

namespace datalab {
namespace {

using pg_binary::put16;
using pg_binary::put32;
using pg_binary::put64;

void put_string(std::string& out, const std::string& text) {
  out += text;
  out += '\0';
}

void put_text(std::string& out, const std::string& text) {
  out += 't';
  put32(out, static_cast<uint32_t>(text.size()));
  out += text;
}

TEST(Pgoutput, DecodesBeginAndCommitWithUnixTimes) {
  std::string begin = "B";
  put64(begin, 0x16B374D848ull);
  put64(begin, 1'000'000);  // one second after 2000-01-01
  put32(begin, 777);
  const auto b = std::get<pgoutput::Begin>(pgoutput::decode(begin));
  EXPECT_EQ(b.final_lsn, 0x16B374D848ull);
  EXPECT_EQ(b.commit_time_us, 946'684'801'000'000);
  EXPECT_EQ(b.xid, 777u);

  std::string commit = "C";
  commit += '\0';
  put64(commit, 100);
  put64(commit, 160);
  put64(commit, 0);
  const auto c = std::get<pgoutput::Commit>(pgoutput::decode(commit));
  EXPECT_EQ(c.commit_lsn, 100u);
  EXPECT_EQ(c.end_lsn, 160u);
  EXPECT_EQ(c.commit_time_us, 946'684'800'000'000);
}

std::string relation_message() {
  std::string m = "R";
  put32(m, 16384);
  put_string(m, "shop");
  put_string(m, "orders");
  m += 'd';
  put16(m, 3);
  m += '\1';
  put_string(m, "id");
  put32(m, 20);
  put32(m, static_cast<uint32_t>(-1));
  m += '\0';
  put_string(m, "paid");
  put32(m, 16);
  put32(m, static_cast<uint32_t>(-1));
  m += '\0';
  put_string(m, "note");
  put32(m, 25);
  put32(m, static_cast<uint32_t>(-1));
  return m;
}

TEST(Pgoutput, DecodesARelationWithItsKeyColumns) {
  const auto r = std::get<pgoutput::Relation>(pgoutput::decode(relation_message()));
  EXPECT_EQ(r.oid, 16384u);
  EXPECT_EQ(r.schema, "shop");
  EXPECT_EQ(r.name, "orders");
  ASSERT_EQ(r.columns.size(), 3u);
  EXPECT_TRUE(r.columns[0].key);
  EXPECT_FALSE(r.columns[1].key);
  EXPECT_EQ(r.columns[2].name, "note");
  EXPECT_EQ(r.columns[2].type_oid, 25u);
}

TEST(Pgoutput, DecodesInsertUpdateDeleteAndTruncate) {
  std::string insert = "I";
  put32(insert, 16384);
  insert += 'N';
  put16(insert, 3);
  put_text(insert, "7");
  insert += 'n';
  put_text(insert, "héllo");
  const auto i = std::get<pgoutput::Insert>(pgoutput::decode(insert));
  ASSERT_EQ(i.row.size(), 3u);
  EXPECT_EQ(i.row[0].text, "7");
  EXPECT_EQ(i.row[1].kind, pgoutput::Value::Kind::null);
  EXPECT_EQ(i.row[2].text, "héllo");

  std::string update = "U";
  put32(update, 16384);
  update += 'K';
  put16(update, 3);
  put_text(update, "6");
  update += 'n';
  update += 'n';
  update += 'N';
  put16(update, 3);
  put_text(update, "7");
  put_text(update, "t");
  update += 'u';
  const auto u = std::get<pgoutput::Update>(pgoutput::decode(update));
  ASSERT_TRUE(u.old.has_value());
  EXPECT_TRUE(u.old_key_only);
  EXPECT_EQ((*u.old)[0].text, "6");
  EXPECT_EQ(u.row[2].kind, pgoutput::Value::Kind::unchanged);

  std::string remove = "D";
  put32(remove, 16384);
  remove += 'O';
  put16(remove, 1);
  put_text(remove, "7");
  const auto d = std::get<pgoutput::Delete>(pgoutput::decode(remove));
  EXPECT_FALSE(d.key_only);
  EXPECT_EQ(d.old[0].text, "7");

  std::string truncate = "T";
  put32(truncate, 2);
  truncate += '\1';
  put32(truncate, 1);
  put32(truncate, 2);
  const auto t = std::get<pgoutput::Truncate>(pgoutput::decode(truncate));
  EXPECT_EQ(t.relations, (std::vector<uint32_t>{1, 2}));
  EXPECT_TRUE(t.cascade);
  EXPECT_FALSE(t.restart_identity);
}

TEST(Pgoutput, ATruncatedOrUnknownMessageIsAnErrorNamingIt) {
  std::string insert = "I";
  put32(insert, 16384);
  insert += 'N';
  put16(insert, 1);
  insert += 't';
  put32(insert, 10);
  insert += "abc";  // 7 bytes short
  try {
    pgoutput::decode(insert);
    FAIL() << "a short message decoded";
  } catch (const ServiceError& e) {
    EXPECT_NE(std::string(e.what()).find("message 'I'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(pgoutput::decode("S"), ServiceError);  // a stream message of protocol 2
  EXPECT_THROW(pgoutput::decode(""), ServiceError);
}

TEST(Pgoutput, PositionsPrintAndParseAsTheServerWritesThem) {
  EXPECT_EQ(lsn_text(0x16B374D848ull), "16/B374D848");
  EXPECT_EQ(lsn_text(0), "0/0");
  EXPECT_EQ(parse_lsn("16/B374D848"), 0x16B374D848ull);
  EXPECT_THROW(parse_lsn("16-B3"), ServiceError);
  EXPECT_THROW(parse_lsn("16/B3x"), ServiceError);
}

TEST(ChangeJson, IsDebeziumShapedWithTypedValues) {
  cdc::TableShape table;
  table.schema = "shop";
  table.name = "orders";
  table.columns = {{true, "id", 20, -1}, {false, "paid", 16, -1}, {false, "amount", 1700, -1},
                   {false, "ratio", 701, -1}, {false, "note", 25, -1}, {false, "blob", 25, -1}};
  table.primary_key = {0};
  pgoutput::Tuple row(6);
  row[0] = {pgoutput::Value::Kind::text, "7"};
  row[1] = {pgoutput::Value::Kind::text, "t"};
  row[2] = {pgoutput::Value::Kind::text, "12345678901234567890.123"};
  row[3] = {pgoutput::Value::Kind::text, "NaN"};
  row[4] = {pgoutput::Value::Kind::text, "say \"hi\""};
  row[5] = {pgoutput::Value::Kind::unchanged, ""};
  cdc::Change change;
  change.op = cdc::ChangeOp::update;
  change.table = &table;
  change.after = &row;
  change.lsn = 4242;
  change.commit_time_us = 1'700'000'000'123'456;
  change.xid = 9;
  const std::string text = cdc::change_value_json(change, {"lab", "it_one"});
  rapidjson::Document json;
  json.Parse(text.c_str());
  ASSERT_FALSE(json.HasParseError()) << text;
  EXPECT_TRUE(json["before"].IsNull());
  EXPECT_STREQ(json["op"].GetString(), "u");
  const auto& after = json["after"];
  EXPECT_EQ(after["id"].GetInt64(), 7);
  EXPECT_TRUE(after["paid"].GetBool());
  // Every digit of the numeric is kept in the text.
  EXPECT_NE(text.find("\"amount\":12345678901234567890.123"), std::string::npos) << text;
  EXPECT_STREQ(after["ratio"].GetString(), "NaN");
  EXPECT_STREQ(after["note"].GetString(), "say \"hi\"");
  EXPECT_STREQ(after["blob"].GetString(), cdc::kUnavailableValue);
  const auto& source = json["source"];
  EXPECT_STREQ(source["connector"].GetString(), "postgresql");
  EXPECT_STREQ(source["name"].GetString(), "lab");
  EXPECT_STREQ(source["db"].GetString(), "it_one");
  EXPECT_STREQ(source["table"].GetString(), "orders");
  EXPECT_EQ(source["lsn"].GetUint64(), 4242u);
  EXPECT_EQ(source["txId"].GetUint(), 9u);
  EXPECT_EQ(source["ts_ms"].GetInt64(), 1'700'000'000'123);
  EXPECT_STREQ(source["snapshot"].GetString(), "false");

  EXPECT_EQ(cdc::change_key_json(table, row), R"({"id":7})");
  table.primary_key.clear();
  EXPECT_FALSE(cdc::change_key_json(table, row).has_value());
}

}  // namespace
}  // namespace datalab
