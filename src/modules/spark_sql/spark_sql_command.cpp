#include "modules/spark_sql/spark_sql_command.h"

#include <memory>

#include <fmt/format.h>

#include "core/arrow_status.h"
#include "storage/spark/spark_dataframe.h"
#include "storage/spark/spark_session.h"

namespace datalab::spark_sql {

namespace {

ResultTable to_result_table(const arrow::Table& table) {
  ResultTable out;
  for (const auto& field : table.schema()->fields()) {
    out.columns.push_back(field->name());
    const auto id = field->type()->id();
    const bool number = arrow::is_integer(id) || arrow::is_floating(id) || arrow::is_decimal(id);
    out.kinds.push_back(number ? ValueKind::Number : ValueKind::Text);
  }
  auto combined = unwrap_arrow(table.CombineChunks(), "cannot combine the Spark result");
  for (int64_t row = 0; row < table.num_rows(); ++row) {
    std::vector<std::optional<std::string>> values;
    for (int column = 0; column < table.num_columns(); ++column) {
      auto scalar = unwrap_arrow(combined->column(column)->chunk(0)->GetScalar(row), "cannot read the Spark result");
      values.push_back(scalar->is_valid ? std::optional<std::string>(scalar->ToString()) : std::nullopt);
    }
    out.add_row(std::move(values));
  }
  return out;
}

}  // namespace

void add_spark_command(CLI::App& root, AppContext& context) {
  struct Arguments {
    std::string query;
    int show = 0;
  };
  auto arguments = std::make_shared<Arguments>();
  auto* spark = root.add_subcommand("spark", "Spark through datalab's Spark Connect client (SPARK_CONNECT_URL)");
  spark->require_subcommand(1);
  auto* sql = spark->add_subcommand("sql", "run a Spark SQL query on the cluster and print its rows");
  sql->add_option("query", arguments->query, "the query")->required();
  sql->add_option("--show", arguments->show, "print Spark's own df.show(N) text instead of a table");
  sql->callback([arguments, &context] {
    auto session = spark::SparkSession::connect(spark::SparkConnectSettings::from(context.config));
    auto frame = session->sql(arguments->query);
    if (arguments->show > 0) {
      fmt::print("{}", frame.show_string(arguments->show));
      return;
    }
    Report report(context.format);
    report.table(fmt::format("Spark {} at {}", session->spark_version(), session->settings().describe()),
                 to_result_table(*frame.collect()));
    report.finish();
  });
}

}  // namespace datalab::spark_sql
