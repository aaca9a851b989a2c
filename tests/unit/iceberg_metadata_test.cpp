// Iceberg table metadata: the typed struct and its JSON form (table_metadata.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "storage/iceberg/table_metadata.h"

namespace datalab::iceberg {
namespace {

using nlohmann::json;

TableMetadata sample() {
  Schema schema;
  schema.fields = json::array({{{"id", 1}, {"name", "id"}, {"type", "long"}, {"required", false}}});
  auto m = TableMetadata::create("uuid-1", "s3://b/wh/t", schema, 1, 1000);
  Snapshot s;
  s.snapshot_id = 42;
  s.sequence_number = 1;
  s.timestamp_ms = 1000;
  s.manifest_list = "s3://b/wh/t/metadata/snap-42.avro";
  s.summary = {{"operation", "append"}, {"total-records", "10"}};
  s.schema_id = 0;
  m.snapshots.push_back(s);
  m.current_snapshot_id = 42;
  m.refs["main"] = {42, "branch", json::object()};
  m.snapshot_log.push_back({42, 1000});
  m.metadata_log.push_back({"s3://b/wh/t/metadata/00000-a.metadata.json", 900});
  m.last_sequence_number = 1;
  m.properties["write.format.default"] = "parquet";
  return m;
}

TEST(IcebergMetadata, JsonRoundTripKeepsEveryField) {
  const auto m = sample();
  const json j = m;
  EXPECT_EQ(j["format-version"], 2);
  EXPECT_EQ(j["current-snapshot-id"], 42);
  EXPECT_EQ(j["schemas"][0]["type"], "struct");
  EXPECT_EQ(j["partition-specs"], json::parse(R"([{"spec-id":0,"fields":[]}])"));
  EXPECT_EQ(j["sort-orders"], json::parse(R"([{"order-id":0,"fields":[]}])"));
  EXPECT_EQ(j["snapshots"][0]["summary"]["total-records"], "10");
  EXPECT_FALSE(j["snapshots"][0].contains("parent-snapshot-id"));
  EXPECT_EQ(j["refs"]["main"], json::parse(R"({"snapshot-id":42,"type":"branch"})"));
  EXPECT_EQ(j["last-partition-id"], 999);

  const std::string text = metadata_text(m);
  const auto back = parse_metadata(text);
  EXPECT_EQ(metadata_text(back), text);  // byte for byte
  ASSERT_NE(back.current_snapshot(), nullptr);
  EXPECT_EQ(back.current_snapshot()->summary_number("total-records"), 10);
  EXPECT_EQ(back.current_schema()->fields, m.schemas[0].fields);
}

TEST(IcebergMetadata, KeysOfOtherWritersSurviveAndMinusOneMeansNoSnapshot) {
  json j = sample();
  j["current-snapshot-id"] = -1;
  j["statistics"] = json::array();
  j["snapshots"][0]["first-row-id"] = 7;
  j["snapshots"][0]["summary"]["added-records"] = 10;  // a number where the spec says string
  j["refs"]["main"]["max-ref-age-ms"] = 5;
  const auto m = j.get<TableMetadata>();
  EXPECT_EQ(m.current_snapshot(), nullptr);
  EXPECT_EQ(m.snapshots[0].summary.at("added-records"), "10");
  const json out = m;
  EXPECT_EQ(out["statistics"], json::array());
  EXPECT_EQ(out["snapshots"][0]["first-row-id"], 7);
  EXPECT_EQ(out["refs"]["main"]["max-ref-age-ms"], 5);
  EXPECT_EQ(out["current-snapshot-id"], -1);
}

TEST(IcebergMetadata, VersionFromTheFileName) {
  EXPECT_EQ(metadata_version("s3://b/t/metadata/00012-abc.metadata.json"), 12);
  EXPECT_EQ(metadata_version("s3://b/t/metadata/v3.metadata.json"), 0);
}

}  // namespace
}  // namespace datalab::iceberg
