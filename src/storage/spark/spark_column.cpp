#include "storage/spark/spark_column.h"

namespace datalab::spark {

namespace proto = ::spark::connect;

Column Column::col(const std::string& name) {
  proto::Expression e;
  e.mutable_unresolved_attribute()->set_unparsed_identifier(name);
  return Column(std::move(e));
}

Column Column::lit(const std::string& value) {
  proto::Expression e;
  e.mutable_literal()->set_string(value);
  return Column(std::move(e));
}

Column Column::lit(int64_t value) {
  proto::Expression e;
  e.mutable_literal()->set_long_(value);
  return Column(std::move(e));
}

Column Column::lit(double value) {
  proto::Expression e;
  e.mutable_literal()->set_double_(value);
  return Column(std::move(e));
}

Column Column::lit(bool value) {
  proto::Expression e;
  e.mutable_literal()->set_boolean(value);
  return Column(std::move(e));
}

Column Column::expr(const std::string& sql) {
  proto::Expression e;
  e.mutable_expression_string()->set_expression(sql);
  return Column(std::move(e));
}

Column Column::fn(const std::string& name, std::vector<Column> arguments) {
  proto::Expression e;
  auto* function = e.mutable_unresolved_function();
  function->set_function_name(name);
  for (auto& argument : arguments) *function->add_arguments() = std::move(argument.expression_);
  return Column(std::move(e));
}

Column Column::alias(const std::string& name) const {
  proto::Expression e;
  auto* alias = e.mutable_alias();
  *alias->mutable_expr() = expression_;
  alias->add_name(name);
  return Column(std::move(e));
}

Column Column::cast_with(const std::string& type, proto::Expression::Cast::EvalMode mode) const {
  proto::Expression e;
  auto* cast = e.mutable_cast();
  *cast->mutable_expr() = expression_;
  cast->set_type_str(type);
  cast->set_eval_mode(mode);
  return Column(std::move(e));
}

Column Column::cast(const std::string& type) const { return cast_with(type, proto::Expression::Cast::EVAL_MODE_UNSPECIFIED); }
Column Column::try_cast(const std::string& type) const { return cast_with(type, proto::Expression::Cast::EVAL_MODE_TRY); }

Column operator==(const Column& left, const Column& right) { return Column::fn("==", {left, right}); }
// Spark has no "!=" function: PySpark sends not(a == b) too.
Column operator!=(const Column& left, const Column& right) { return !(left == right); }
Column operator<(const Column& left, const Column& right) { return Column::fn("<", {left, right}); }
Column operator>=(const Column& left, const Column& right) { return Column::fn(">=", {left, right}); }
Column operator&&(const Column& left, const Column& right) { return Column::fn("and", {left, right}); }
Column operator||(const Column& left, const Column& right) { return Column::fn("or", {left, right}); }
Column operator!(const Column& value) { return Column::fn("not", {value}); }

}  // namespace datalab::spark
