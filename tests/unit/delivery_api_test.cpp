// Week 9 delivery service: request validation and file naming, without services.
#include <fmt/format.h>
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

TEST(DeliveryFiles, HandledFilesGetATimestampedKeyThatMapsBack) {
  using namespace std::chrono;
  const auto when = sys_days{year{2025} / 3 / 4} + hours{5} + minutes{6} + seconds{7};
  const auto key = airflow_pipeline::timestamped_key("processed", "incoming/delivery_1.parquet", when);
  EXPECT_EQ(key, "processed/20250304T050607Z_delivery_1.parquet");
  EXPECT_EQ(airflow_pipeline::source_name_of(key), "delivery_1.parquet");
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

TEST(Notification, ValidatesResultAndExecutionTime) {
  NotificationRequest request;
  const auto body = [](const char* result, const char* when) {
    return fmt::format(R"({{"dag_id":"d","dag_execution_time":"{}","result":"{}","details":"x"}})", when, result);
  };
  EXPECT_FALSE(parse_notification(body("success", "2025-01-01T00:00:00+00:00"), request));
  EXPECT_FALSE(parse_notification(body("failure", "2025-01-01 00:00:00+00:00"), request));
  EXPECT_NE(parse_notification(body("maybe", "2025-01-01T00:00:00+00:00"), request)->find("'result'"),
            std::string::npos);
  EXPECT_NE(parse_notification(body("success", "notadate"), request)->find("'dag_execution_time'"), std::string::npos);
  EXPECT_NE(parse_notification("{\"dag_id\":\"\xff\"}", request)->find("UTF-8"), std::string::npos);
  EXPECT_NE(parse_notification("", request)->find("empty"), std::string::npos);
}

TEST(Notification, Iso8601DateTimes) {
  for (const char* ok : {"2025-01-01T00:00:00+00:00", "2025-01-01 00:00:00+00:00", "2025-06-30T12:34:56.789012Z",
                         "2024-02-29T23:59:59", "2025-01-01T10:00-0530", "2016-12-31T23:59:60Z"}) {
    EXPECT_TRUE(is_iso8601_datetime(ok)) << ok;
  }
  for (const char* bad : {"notadate", "", "2025-01-01", "2025-02-30T00:00:00", "2023-02-29T00:00:00", "2025-13-01T00:00",
                          "2025-01-01T24:00:00", "2025-01-01T00:00:00+", "2025-01-01T00:00:00 extra",
                          "0000-01-01T00:00:00", "2025-01-01T00:00:00.Z"}) {
    EXPECT_FALSE(is_iso8601_datetime(bad)) << bad;
  }
}

TEST(Notification, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("пекарня \xF0\x9F\xA5\x90"));  // Cyrillic and U+1F950
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // cut short
}

TEST(BearerToken, SchemeIsCaseInsensitiveTokenIsNot) {
  EXPECT_TRUE(bearer_token_matches("Bearer abc", "abc"));
  EXPECT_TRUE(bearer_token_matches("bearer abc", "abc"));
  EXPECT_TRUE(bearer_token_matches("BEARER   abc ", "abc"));
  EXPECT_FALSE(bearer_token_matches("Bearer ABC", "abc"));
  EXPECT_FALSE(bearer_token_matches("Basic abc", "abc"));
  EXPECT_FALSE(bearer_token_matches("Bearerabc", "abc"));
  EXPECT_FALSE(bearer_token_matches("Bearer ", "abc"));
  EXPECT_FALSE(bearer_token_matches("", "abc"));
}
