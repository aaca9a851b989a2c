#pragma once
// A lazily built Spark plan, PySpark's DataFrame in C++: transformations return a new
// DataFrame over a bigger relation; actions (collect, count, show_string, write_jdbc) send
// the plan to the Connect server and run it on the cluster.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <arrow/api.h>

#include "spark/connect/relations.pb.h"
#include "storage/spark/spark_column.h"

namespace datalab::spark {

class SparkSession;

enum class SaveMode { Append, Overwrite, ErrorIfExists, Ignore };

class DataFrame {
 public:
  DataFrame(std::shared_ptr<SparkSession> session, ::spark::connect::Relation relation)
      : session_(std::move(session)), relation_(std::move(relation)) {}

  DataFrame with_columns_renamed(const std::vector<std::pair<std::string, std::string>>& renames) const;
  DataFrame with_column(const std::string& name, const Column& value) const;
  DataFrame select(const std::vector<Column>& columns) const;
  DataFrame filter(const Column& condition) const;
  DataFrame limit(int32_t rows) const;
  // Redistributes rows into `partitions` partitions (a shuffle): the parallelism of what follows.
  DataFrame repartition(int32_t partitions) const;
  DataFrame order_by(const std::vector<Column>& columns) const;  // ascending

  std::shared_ptr<arrow::Table> collect() const;
  // The columns the plan yields, as Arrow types (runs the plan with no rows).
  std::shared_ptr<arrow::Schema> schema() const;
  int64_t count() const;
  // The text table df.show(rows, truncate) prints.
  std::string show_string(int32_t rows = 20, int32_t truncate = 20) const;
  // df.write.mode(mode).jdbc(url, table, properties): properties carry user, password, driver.
  void write_jdbc(const std::string& url, const std::string& table,
                  const std::map<std::string, std::string>& properties, SaveMode mode) const;
  // df.write.format(format).mode(mode).options(options).save(path): a folder of part files.
  void write(const std::string& format, const std::string& path, const std::map<std::string, std::string>& options,
             SaveMode mode) const;

  const ::spark::connect::Relation& relation() const { return relation_; }

 private:
  DataFrame derive(::spark::connect::Relation relation) const { return DataFrame(session_, std::move(relation)); }
  std::shared_ptr<SparkSession> session_;
  ::spark::connect::Relation relation_;
};

}  // namespace datalab::spark
