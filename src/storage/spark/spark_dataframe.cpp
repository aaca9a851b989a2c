#include "storage/spark/spark_dataframe.h"

#include <arrow/array.h>
#include <fmt/format.h>

#include "core/error.h"
#include "spark/connect/commands.pb.h"
#include "storage/spark/spark_session.h"

namespace datalab::spark {

namespace proto = ::spark::connect;

namespace {

proto::Plan root_plan(const proto::Relation& relation) {
  proto::Plan plan;
  *plan.mutable_root() = relation;
  return plan;
}

proto::WriteOperation::SaveMode save_mode(SaveMode mode) {
  switch (mode) {
    case SaveMode::Append: return proto::WriteOperation::SAVE_MODE_APPEND;
    case SaveMode::Overwrite: return proto::WriteOperation::SAVE_MODE_OVERWRITE;
    case SaveMode::ErrorIfExists: return proto::WriteOperation::SAVE_MODE_ERROR_IF_EXISTS;
    case SaveMode::Ignore: return proto::WriteOperation::SAVE_MODE_IGNORE;
  }
  return proto::WriteOperation::SAVE_MODE_UNSPECIFIED;
}

}  // namespace

DataFrame DataFrame::with_columns_renamed(const std::vector<std::pair<std::string, std::string>>& renames) const {
  proto::Relation relation;
  auto* rename = relation.mutable_with_columns_renamed();
  *rename->mutable_input() = relation_;
  for (const auto& [from, to] : renames) {
    auto* item = rename->add_renames();
    item->set_col_name(from);
    item->set_new_col_name(to);
  }
  return derive(std::move(relation));
}

DataFrame DataFrame::with_column(const std::string& name, const Column& value) const {
  proto::Relation relation;
  auto* with = relation.mutable_with_columns();
  *with->mutable_input() = relation_;
  auto* alias = with->add_aliases();
  *alias->mutable_expr() = value.proto();
  alias->add_name(name);
  return derive(std::move(relation));
}

DataFrame DataFrame::select(const std::vector<Column>& columns) const {
  proto::Relation relation;
  auto* project = relation.mutable_project();
  *project->mutable_input() = relation_;
  for (const auto& column : columns) *project->add_expressions() = column.proto();
  return derive(std::move(relation));
}

DataFrame DataFrame::filter(const Column& condition) const {
  proto::Relation relation;
  auto* filter = relation.mutable_filter();
  *filter->mutable_input() = relation_;
  *filter->mutable_condition() = condition.proto();
  return derive(std::move(relation));
}

DataFrame DataFrame::limit(int32_t rows) const {
  proto::Relation relation;
  auto* limit = relation.mutable_limit();
  *limit->mutable_input() = relation_;
  limit->set_limit(rows);
  return derive(std::move(relation));
}

DataFrame DataFrame::repartition(int32_t partitions) const {
  proto::Relation relation;
  auto* repartition = relation.mutable_repartition();
  *repartition->mutable_input() = relation_;
  repartition->set_num_partitions(partitions);
  repartition->set_shuffle(true);
  return derive(std::move(relation));
}

DataFrame DataFrame::order_by(const std::vector<Column>& columns) const {
  proto::Relation relation;
  auto* sort = relation.mutable_sort();
  *sort->mutable_input() = relation_;
  sort->set_is_global(true);
  for (const auto& column : columns) {
    auto* order = sort->add_order();
    *order->mutable_child() = column.proto();
    order->set_direction(proto::Expression::SortOrder::SORT_DIRECTION_ASCENDING);
    order->set_null_ordering(proto::Expression::SortOrder::SORT_NULLS_FIRST);
  }
  return derive(std::move(relation));
}

std::shared_ptr<arrow::Table> DataFrame::collect() const {
  auto result = session_->execute(root_plan(relation_), "collect");
  if (!result.table) throw ServiceError("Spark collect returned no result schema");
  return result.table;
}

std::shared_ptr<arrow::Schema> DataFrame::schema() const { return limit(0).collect()->schema(); }

int64_t DataFrame::count() const {
  auto table = select({Column::fn("count", {Column::lit(int64_t{1})}).alias("count")}).collect();
  if (table->num_rows() != 1 || table->num_columns() != 1) {
    throw ServiceError(fmt::format("Spark count returned {} rows", table->num_rows()));
  }
  auto chunk = table->column(0)->chunk(0);
  if (chunk->type_id() != arrow::Type::INT64) throw ServiceError("Spark count returned a non-bigint column");
  return std::static_pointer_cast<arrow::Int64Array>(chunk)->Value(0);
}

std::string DataFrame::show_string(int32_t rows, int32_t truncate) const {
  proto::Relation relation;
  auto* show = relation.mutable_show_string();
  *show->mutable_input() = relation_;
  show->set_num_rows(rows);
  show->set_truncate(truncate);
  auto result = session_->execute(root_plan(relation), "show");
  // One row, one string column: the rendered table.
  if (!result.table || result.table->num_rows() != 1) throw ServiceError("Spark show returned no text");
  auto chunk = result.table->column(0)->chunk(0);
  if (chunk->type_id() == arrow::Type::STRING) return std::static_pointer_cast<arrow::StringArray>(chunk)->GetString(0);
  if (chunk->type_id() == arrow::Type::LARGE_STRING) {
    return std::static_pointer_cast<arrow::LargeStringArray>(chunk)->GetString(0);
  }
  throw ServiceError("Spark show returned a non-text column");
}

void DataFrame::write_jdbc(const std::string& url, const std::string& table,
                           const std::map<std::string, std::string>& properties, SaveMode mode) const {
  proto::Plan plan;
  auto* write = plan.mutable_command()->mutable_write_operation();
  *write->mutable_input() = relation_;
  write->set_source("jdbc");
  write->set_mode(save_mode(mode));
  auto& options = *write->mutable_options();
  for (const auto& [key, value] : properties) options[key] = value;
  options["url"] = url;
  options["dbtable"] = table;
  if (auto password = properties.find("password"); password != properties.end()) session_->redact(password->second);
  session_->execute(plan, fmt::format("write to {} through JDBC", table));
}

void DataFrame::write(const std::string& format, const std::string& path,
                      const std::map<std::string, std::string>& options, SaveMode mode) const {
  proto::Plan plan;
  auto* write = plan.mutable_command()->mutable_write_operation();
  *write->mutable_input() = relation_;
  write->set_source(format);
  write->set_path(path);
  write->set_mode(save_mode(mode));
  for (const auto& [key, value] : options) (*write->mutable_options())[key] = value;
  session_->execute(plan, fmt::format("write {} to {}", format, path));
}

}  // namespace datalab::spark
