// Week 9 delivery service: request validation and file naming, without services.
#include <gtest/gtest.h>

#include "modules/airflow_pipeline/delivery_pipeline.h"
#include "server/delivery_api.h"

using namespace datalab;

TEST(Notification, AcceptsAValidBody) {
  NotificationRequest request;
  auto reason = parse_notification(
      R"({"dag_id":"airflow-pipeline","dag_execution_time":"2025-01-01T00:00:00+00:00","result":"failure","details":{"check":"422"}})",
      request);
  ASSERT_FALSE(reason) << *reason;
  EXPECT_EQ(request.dag_id, "airflow-pipeline");
  EXPECT_EQ(request.details, R"({"check":"422"})");
  EXPECT_NE(format_notification(request).find("airflow-pipeline: failure"), std::string::npos);
}

TEST(Notification, RejectsMalformedBodiesWithAReason) {
  NotificationRequest request;
  EXPECT_NE(parse_notification("{", request)->find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_notification("[]", request)->find("JSON object"), std::string::npos);
  EXPECT_NE(parse_notification(R"({"dag_execution_time":"t","result":"r","details":"d"})", request)->find("dag_id"),
            std::string::npos);
  EXPECT_NE(parse_notification(R"({"dag_id":"","dag_execution_time":"t","result":"r","details":"d"})", request)
                ->find("must not be empty"),
            std::string::npos);
  EXPECT_NE(parse_notification(R"({"dag_id":"d","dag_execution_time":"t","result":"r","details":3})", request)
                ->find("details"),
            std::string::npos);
}

TEST(DeliveryFiles, ProcessedKeysMapBackToTheirSourceName) {
  EXPECT_EQ(airflow_pipeline::source_name_of("processed/20250102T030405Z_delivery_1.parquet"), "delivery_1.parquet");
  EXPECT_EQ(airflow_pipeline::source_name_of("processed/my_file.parquet"), "my_file.parquet");
}

TEST(DeliveryFiles, EmbeddedFixturesParseWithTheDeliverySchema) {
  const auto files = airflow_pipeline::fixture_files();
  ASSERT_EQ(files.size(), 5u);
  for (const auto& [name, csv] : files) {
    auto table = airflow_pipeline::parse_delivery_csv(csv, name);
    EXPECT_EQ(table->num_rows(), 10) << name;
    const auto expected = airflow_pipeline::delivery_schema();
    ASSERT_EQ(table->num_columns(), expected->num_fields()) << name;
    for (int i = 0; i < expected->num_fields(); ++i) {
      EXPECT_EQ(table->schema()->field(i)->name(), expected->field(i)->name());
      EXPECT_TRUE(table->schema()->field(i)->type()->Equals(*expected->field(i)->type())) << name;
    }
  }
}
