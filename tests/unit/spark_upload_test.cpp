// spark_upload without services: the product rules both engines share, the generated CSV,
// SPARK_CONNECT_URL parsing, and the Spark Connect plans the DataFrame builder produces.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "datagen/product_generator.h"
#include "modules/spark_upload/product_rules.h"
#include "storage/spark/spark_connect_settings.h"
#include "storage/spark/spark_dataframe.h"

namespace datalab {
namespace {

using spark_upload::check_product;

const char* reason(std::optional<std::string_view> product, std::optional<std::string_view> price) {
  return check_product(product, price).reason;
}

TEST(ProductRules, AcceptsPlainDecimalsAndRoundsHalfUpToCents) {
  EXPECT_EQ(check_product("Laptop", "472.15").price_cents, 47215);
  EXPECT_EQ(check_product("Laptop", "  12.5  ").price_cents, 1250);
  EXPECT_EQ(check_product("Laptop", "1.005").price_cents, 101);
  EXPECT_EQ(check_product("Laptop", "2.004").price_cents, 200);
  EXPECT_EQ(check_product("Laptop", "+7").price_cents, 700);
  EXPECT_EQ(check_product("Laptop", "007.50").price_cents, 750);
  EXPECT_EQ(check_product("Laptop", "-0.004").price_cents, 0);
  EXPECT_EQ(check_product("Laptop", "9999999999.99").price_cents, 999'999'999'999);
  EXPECT_EQ(reason("Laptop", "472.15"), nullptr);
}

TEST(ProductRules, RejectsWithTheFirstReasonThatApplies) {
  EXPECT_STREQ(reason(std::nullopt, "1.00"), spark_upload::kMissingName);
  EXPECT_STREQ(reason("   ", ""), spark_upload::kMissingName);
  EXPECT_STREQ(reason("Mouse", std::nullopt), spark_upload::kMissingPrice);
  EXPECT_STREQ(reason("Mouse", "  "), spark_upload::kMissingPrice);
  for (const char* bad : {"n/a", "1e3", "5.", ".5", "4,50", "\t5", "1.2.3", "+", "-", "--1", "5 5"}) {
    EXPECT_STREQ(reason("Mouse", bad), spark_upload::kPriceNotNumber) << bad;
  }
  EXPECT_STREQ(reason("Mouse", "12345678901"), spark_upload::kPriceOutOfRange);
  EXPECT_STREQ(reason("Mouse", "9999999999.995"), spark_upload::kPriceOutOfRange);
  EXPECT_EQ(reason("Mouse", "00000000000001.5"), nullptr);  // leading zeros are not digits that count
  EXPECT_STREQ(reason("Mouse", "-5.00"), spark_upload::kNegativePrice);
  EXPECT_STREQ(reason("Mouse", "-0.005"), spark_upload::kNegativePrice);
}

TEST(ProductGenerator, SameSeedSameFileWithTheAskedBadRows) {
  const auto dir = std::filesystem::temp_directory_path() / "datalab_product_generator_test";
  std::filesystem::create_directories(dir);
  auto read = [](const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const auto stats = write_products_csv((dir / "a.csv").string(), 1000, 7, 10);
  write_products_csv((dir / "b.csv").string(), 1000, 7, 10);
  write_products_csv((dir / "c.csv").string(), 1000, 8, 10);
  EXPECT_EQ(stats.rows, 1000);
  EXPECT_EQ(stats.bad_rows, 10);
  const auto a = read(dir / "a.csv");
  EXPECT_EQ(a, read(dir / "b.csv"));
  EXPECT_NE(a, read(dir / "c.csv"));

  std::istringstream lines(a);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "Product,Price");
  int rows = 0, rejected = 0;
  while (std::getline(lines, line)) {
    ++rows;
    const auto comma = line.rfind(',');
    if (check_product(line.substr(0, comma), line.substr(comma + 1)).reason) ++rejected;
  }
  EXPECT_EQ(rows, 1000);
  EXPECT_EQ(rejected, 10);
  EXPECT_THROW(write_products_csv((dir / "d.csv").string(), 5, 1, 6), ConfigError);
  std::filesystem::remove_all(dir);
}

TEST(SparkConnectSettings, ParsesSparkConnectUrls) {
  auto plain = spark::SparkConnectSettings::parse("sc://spark.example:15003");
  EXPECT_EQ(plain.target(), "spark.example:15003");
  EXPECT_EQ(plain.user_id, "datalab");
  EXPECT_FALSE(plain.use_ssl);

  auto full = spark::SparkConnectSettings::parse("sc://10.0.0.5/;user_id=alice;token=s3cr3t;use_ssl=true");
  EXPECT_EQ(full.target(), "10.0.0.5:15002");  // Spark's default port
  EXPECT_EQ(full.user_id, "alice");
  EXPECT_EQ(full.token, "s3cr3t");
  EXPECT_TRUE(full.use_ssl);
  EXPECT_EQ(full.describe().find("s3cr3t"), std::string::npos);

  EXPECT_THROW(spark::SparkConnectSettings::parse("http://127.0.0.1:15002"), ConfigError);
  EXPECT_THROW(spark::SparkConnectSettings::parse("sc://127.0.0.1:99999"), ConfigError);
  EXPECT_THROW(spark::SparkConnectSettings::parse("sc://127.0.0.1:15002/;user_id"), ConfigError);
  try {
    spark::SparkConnectSettings::parse("ftp://host/;token=hidden");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).find("hidden"), std::string::npos);
  }
}

TEST(SparkDataFrame, BuildsTheRelationsOfTheTransform) {
  using spark::Column;
  ::spark::connect::Relation read;
  read.mutable_read()->mutable_data_source()->set_format("parquet");
  spark::DataFrame frame(nullptr, read);  // transformations never talk to the server
  auto plan = frame.filter(Column::col("reject_reason").is_null())
                  .with_columns_renamed({{"Product", "name"}, {"Price", "price"}})
                  .with_column("created_at", Column::fn("current_timestamp"))
                  .limit(5)
                  .relation();
  ASSERT_TRUE(plan.has_limit());
  EXPECT_EQ(plan.limit().limit(), 5);
  const auto& with = plan.limit().input().with_columns();
  ASSERT_EQ(with.aliases_size(), 1);
  EXPECT_EQ(with.aliases(0).name(0), "created_at");
  EXPECT_EQ(with.aliases(0).expr().unresolved_function().function_name(), "current_timestamp");
  const auto& renamed = with.input().with_columns_renamed();
  ASSERT_EQ(renamed.renames_size(), 2);
  EXPECT_EQ(renamed.renames(0).col_name(), "Product");
  EXPECT_EQ(renamed.renames(0).new_col_name(), "name");
  const auto& filter = renamed.input().filter();
  EXPECT_EQ(filter.condition().unresolved_function().function_name(), "isNull");
  EXPECT_EQ(filter.condition().unresolved_function().arguments(0).unresolved_attribute().unparsed_identifier(),
            "reject_reason");
  EXPECT_EQ(filter.input().read().data_source().format(), "parquet");
}

TEST(SparkColumn, OperatorsAndCastsMapToSparkFunctions) {
  using spark::Column;
  const auto condition = (Column::col("a") == Column::lit(int64_t{1})) && !Column::col("b").is_not_null();
  EXPECT_EQ(condition.proto().unresolved_function().function_name(), "and");
  EXPECT_EQ(condition.proto().unresolved_function().arguments(0).unresolved_function().function_name(), "==");
  EXPECT_EQ(condition.proto().unresolved_function().arguments(1).unresolved_function().function_name(), "not");
  const auto cast = Column::col("price").try_cast("decimal(12,2)");
  EXPECT_EQ(cast.proto().cast().type_str(), "decimal(12,2)");
  EXPECT_EQ(cast.proto().cast().eval_mode(), ::spark::connect::Expression::Cast::EVAL_MODE_TRY);
  EXPECT_EQ(Column::lit("x").alias("y").proto().alias().name(0), "y");
}

}  // namespace
}  // namespace datalab
