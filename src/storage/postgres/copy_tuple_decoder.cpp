#include "storage/postgres/copy_tuple_decoder.h"

#include <fmt/format.h>

#include "core/arrow_status.h"
#include "core/error.h"
#include "storage/postgres/binary_words.h"
#include "storage/postgres/pg_types.h"

namespace datalab {

namespace {
using namespace pg_binary;
void check(const arrow::Status& status) { check_arrow(status, "cannot build Arrow batch"); }
}  // namespace

// One column: its builder, the type table's decoder for its Arrow type, and for text and
// bytes the size of the last batch's values (the next batch's data buffer is reserved at
// that size, so it does not grow by doubling and copying).
struct CopyTupleDecoder::Column {
  std::string name;
  std::shared_ptr<arrow::DataType> type;
  std::unique_ptr<arrow::ArrayBuilder> builder;
  PgDecode decode = nullptr;
  arrow::BinaryBuilder* bytes = nullptr;  // the builder, when it is a utf8 or binary one
  int64_t last_data_bytes = 0;
};

CopyTupleDecoder::CopyTupleDecoder(std::shared_ptr<arrow::Schema> schema, int64_t batch_rows)
    : schema_(std::move(schema)), batch_rows_(batch_rows > 0 ? batch_rows : 65536) {
  for (const auto& field : schema_->fields()) {
    auto column = std::make_unique<Column>();
    column->name = field->name();
    column->type = field->type();
    column->decode = pg_decoder(*field);
    auto builder = arrow::MakeBuilder(field->type());
    if (!builder.ok()) throw Error("cannot build Arrow batch: " + builder.status().ToString());
    column->builder = std::move(*builder);
    if (field->type()->id() == arrow::Type::STRING || field->type()->id() == arrow::Type::BINARY) {
      // StringBuilder derives from BinaryBuilder: both keep offsets and data the same way.
      column->bytes = static_cast<arrow::BinaryBuilder*>(column->builder.get());
    }
    columns_.push_back(std::move(column));
  }
}

CopyTupleDecoder::~CopyTupleDecoder() = default;

void CopyTupleDecoder::reserve() {
  for (auto& column : columns_) {
    check(column->builder->Reserve(batch_rows_));
    if (column->bytes && column->last_data_bytes > 0) check(column->bytes->ReserveData(column->last_data_bytes));
  }
}

const char* CopyTupleDecoder::append_tuple(const char* p, const char* end) {
  if (pending_ == 0) reserve();  // a batch's first row: size the builders for the whole batch
  if (end - p < 2) throw Error("COPY binary: truncated row");
  const int16_t fields = static_cast<int16_t>(be16(p));
  p += 2;
  if (fields != static_cast<int16_t>(columns_.size())) {
    throw Error(fmt::format("COPY binary: the query returns {} columns, the schema has {}", fields, columns_.size()));
  }
  for (auto& column : columns_) {
    if (end - p < 4) throw Error("COPY binary: truncated row");
    const int32_t size = static_cast<int32_t>(be32(p));
    p += 4;
    if (size < 0) {
      check(column->builder->AppendNull());
      continue;
    }
    if (end - p < size) throw Error("COPY binary: truncated value");
    try {
      column->decode(p, size, *column->builder, *column->type);
    } catch (const Error& e) {
      throw Error(fmt::format("column {}: {}", column->name, e.what()));
    }
    p += size;
  }
  ++pending_;
  return p;
}

std::shared_ptr<arrow::RecordBatch> CopyTupleDecoder::finish_batch() {
  std::vector<std::shared_ptr<arrow::Array>> arrays;
  arrays.reserve(columns_.size());
  for (auto& column : columns_) {
    if (column->bytes) column->last_data_bytes = column->bytes->value_data_length();
    std::shared_ptr<arrow::Array> array;
    check(column->builder->Finish(&array));
    arrays.push_back(std::move(array));
  }
  auto batch = arrow::RecordBatch::Make(schema_, pending_, std::move(arrays));
  pending_ = 0;
  return batch;
}

}  // namespace datalab
