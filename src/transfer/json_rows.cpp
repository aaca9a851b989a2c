#include "transfer/json_rows.h"

#include <arrow/compute/cast.h>
#include <fmt/format.h>

#include "core/arrow_status.h"
#include "core/json_text.h"

namespace datalab::transfer {

bool text_holds(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::NA:
    case arrow::Type::BOOL:
    case arrow::Type::INT8:
    case arrow::Type::INT16:
    case arrow::Type::INT32:
    case arrow::Type::INT64:
    case arrow::Type::UINT8:
    case arrow::Type::UINT16:
    case arrow::Type::UINT32:
    case arrow::Type::UINT64:
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE:
    case arrow::Type::STRING:
    case arrow::Type::LARGE_STRING:
    case arrow::Type::DECIMAL128:
    case arrow::Type::DECIMAL256:
    case arrow::Type::DATE32:
    case arrow::Type::DATE64:
    case arrow::Type::TIMESTAMP:
    case arrow::Type::TIME32:
    case arrow::Type::TIME64:
      return true;
    default:
      return false;
  }
}

JsonRowEncoder::JsonRowEncoder(const arrow::Schema& schema) {
  for (const auto& field : schema.fields()) {
    std::string prefix;
    append_json_string(prefix, field->name());
    prefixes_.push_back(prefix + ":");
    const auto id = field->type()->id();
    kinds_.push_back(id == arrow::Type::BOOL || id == arrow::Type::DECIMAL128 || id == arrow::Type::DECIMAL256 ||
                             arrow::is_integer(id)
                         ? Kind::literal
                     : arrow::is_floating(id) ? Kind::floating
                                              : Kind::text);
  }
}

void JsonRowEncoder::start(const arrow::RecordBatch& batch) {
  texts_.clear();
  for (int c = 0; c < batch.num_columns(); ++c) {
    auto column = batch.column(c);
    if (column->type_id() != arrow::Type::STRING) {
      column = unwrap_arrow(arrow::compute::Cast(*column, arrow::utf8()),
                            fmt::format("cannot write column '{}' as JSON", batch.schema()->field(c)->name()));
    }
    texts_.push_back(std::static_pointer_cast<arrow::StringArray>(column));
  }
}

std::optional<std::string_view> JsonRowEncoder::text(int column, int64_t row) const {
  const auto& values = *texts_[static_cast<std::size_t>(column)];
  if (values.IsNull(row)) return std::nullopt;
  return values.GetView(row);
}

void JsonRowEncoder::append_row(int64_t row, std::string& out) const {
  out += '{';
  for (std::size_t c = 0; c < texts_.size(); ++c) {
    if (c > 0) out += ',';
    out += prefixes_[c];
    if (texts_[c]->IsNull(row)) {
      out += "null";
      continue;
    }
    const std::string_view value = texts_[c]->GetView(row);
    switch (kinds_[c]) {
      case Kind::literal: out += value; break;
      // JSON has no NaN or infinity: they are written as null.
      case Kind::floating:
        out += value.find_first_of("0123456789") == std::string_view::npos ? "null" : value;
        break;
      case Kind::text: append_json_string(out, value); break;
    }
  }
  out += '}';
}

}  // namespace datalab::transfer
