#pragma once
// A column expression of a Spark Connect plan (spark.connect.Expression), built the way
// PySpark's Column is: names, literals, functions, SQL snippets, casts and aliases. The
// server resolves names and functions when the plan runs.
#include <cstdint>
#include <string>
#include <vector>

#include "spark/connect/expressions.pb.h"

namespace datalab::spark {

class Column {
 public:
  explicit Column(::spark::connect::Expression expression) : expression_(std::move(expression)) {}

  static Column col(const std::string& name);
  static Column lit(const std::string& value);
  static Column lit(const char* value) { return lit(std::string(value)); }
  static Column lit(int64_t value);
  static Column lit(double value);
  static Column lit(bool value);
  // A SQL expression parsed by Spark ("upper(name)", "CASE WHEN ... END").
  static Column expr(const std::string& sql);
  // A Spark SQL function by name ("current_timestamp", "trim", "count", "==", "and").
  static Column fn(const std::string& name, std::vector<Column> arguments = {});

  Column alias(const std::string& name) const;
  // CAST(... AS type) with Spark's type syntax ("decimal(12,2)"); try_cast gives NULL instead of failing.
  Column cast(const std::string& type) const;
  Column try_cast(const std::string& type) const;
  Column is_null() const { return fn("isNull", {*this}); }
  Column is_not_null() const { return fn("isNotNull", {*this}); }

  const ::spark::connect::Expression& proto() const { return expression_; }

 private:
  Column cast_with(const std::string& type, ::spark::connect::Expression::Cast::EvalMode mode) const;
  ::spark::connect::Expression expression_;
};

Column operator==(const Column& left, const Column& right);
Column operator!=(const Column& left, const Column& right);
Column operator<(const Column& left, const Column& right);
Column operator>=(const Column& left, const Column& right);
Column operator&&(const Column& left, const Column& right);
Column operator||(const Column& left, const Column& right);
Column operator!(const Column& value);

}  // namespace datalab::spark
