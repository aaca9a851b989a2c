// The native engine of spark_upload: products.parquet streamed batch by batch from the object
// store, every row checked by product_rules, valid rows COPY'd (binary) into
// spark_upload.products inside one transaction together with the rejected rows.
#include <chrono>

#include <arrow/api.h>
#include <fmt/format.h>
#include <parquet/arrow/reader.h>
#include <parquet/properties.h>

#include "core/arrow_status.h"
#include "core/stopwatch.h"
#include "core/error.h"
#include "core/progress.h"
#include "modules/spark_upload/product_load.h"
#include "modules/spark_upload/product_rules.h"
#include "modules/spark_upload/rejected_rows_writer.h"
#include "modules/spark_upload/spark_upload_sql.h"
#include "storage/postgres/copy_in.h"

namespace datalab::spark_upload {

namespace {

std::optional<std::string_view> text_at(const arrow::StringArray& array, int64_t row) {
  if (array.IsNull(row)) return std::nullopt;
  return array.GetView(row);
}

}  // namespace

LoadResult load_natively(PgConnection& db, const ObjectStore& store, const LandingResult& landing,
                         const std::string& source) {
  const auto start = std::chrono::steady_clock::now();
  auto input = store.open_input(landing.key);
  auto properties = parquet::ArrowReaderProperties();
  properties.set_batch_size(65536);
  // Fetch each row group when it is read, not the whole file up front (bounded memory).
  properties.set_pre_buffer(true);
  properties.set_cache_options(arrow::io::CacheOptions::LazyDefaults());
  std::unique_ptr<parquet::arrow::FileReader> parquet;
  {
    parquet::arrow::FileReaderBuilder builder;
    check_arrow<ServiceError>(builder.Open(input), fmt::format("'{}' is not a Parquet file", landing.uri));
    builder.properties(properties);
    check_arrow<ServiceError>(builder.Build(&parquet), fmt::format("cannot read '{}'", landing.uri));
  }
  std::shared_ptr<arrow::Schema> file_schema;
  check_arrow(parquet->GetSchema(&file_schema), landing.uri);
  const int product_index = file_schema->GetFieldIndex("Product");
  const int price_index = file_schema->GetFieldIndex("Price");
  if (product_index < 0 || price_index < 0) {
    throw Error(fmt::format("'{}' has no Product and Price columns: {}", landing.uri, file_schema->ToString()));
  }
  std::vector<int> row_groups(static_cast<std::size_t>(parquet->num_row_groups()));
  for (std::size_t i = 0; i < row_groups.size(); ++i) row_groups[i] = static_cast<int>(i);
  auto reader = unwrap_arrow<ServiceError>(parquet->GetRecordBatchReader(row_groups, {product_index, price_index}),
                       fmt::format("cannot read '{}'", landing.uri));

  const auto products_schema = arrow::schema({arrow::field("name", arrow::utf8()),
                                              arrow::field("price", arrow::decimal128(12, 2)),
                                              arrow::field("source", arrow::utf8())});
  const auto source_scalar = std::make_shared<arrow::StringScalar>(source);
  std::vector<RejectedRow> rejected = landing.malformed;
  LoadResult result;
  ProgressBar progress("load products (native)", static_cast<uint64_t>(landing.rows));

  db.transaction([&] {
    db.exec(sql::clear_source, {source});
    CopyIn writer(db, "spark_upload", "products", products_schema);
    int64_t row_number = 0;
    while (true) {
      auto batch = unwrap_arrow<ServiceError>(reader->Next(), fmt::format("cannot read '{}'", landing.uri));
      if (!batch) break;
      auto products = std::dynamic_pointer_cast<arrow::StringArray>(batch->column(0));
      auto prices = std::dynamic_pointer_cast<arrow::StringArray>(batch->column(1));
      if (!products || !prices) throw Error(fmt::format("'{}': Product and Price must be text columns", landing.uri));
      arrow::StringBuilder names;
      arrow::Decimal128Builder cents(arrow::decimal128(12, 2));
      check_arrow(names.Reserve(batch->num_rows()), "reserve");
      check_arrow(cents.Reserve(batch->num_rows()), "reserve");
      for (int64_t row = 0; row < batch->num_rows(); ++row) {
        ++row_number;
        const auto product = text_at(*products, row);
        const auto price = text_at(*prices, row);
        const auto verdict = check_product(product, price);
        if (verdict.reason) {
          rejected.push_back({row_number, std::nullopt, product ? std::optional<std::string>(*product) : std::nullopt,
                              price ? std::optional<std::string>(*price) : std::nullopt, verdict.reason, std::nullopt});
          continue;
        }
        check_arrow(names.Append(*product), "name");
        check_arrow(cents.Append(arrow::Decimal128(verdict.price_cents)), "price");
      }
      const int64_t valid = names.length();
      std::shared_ptr<arrow::Array> name_array, price_array;
      check_arrow(names.Finish(&name_array), "name");
      check_arrow(cents.Finish(&price_array), "price");
      auto source_array = unwrap_arrow(arrow::MakeArrayFromScalar(*source_scalar, valid), "source");
      writer.write(*arrow::RecordBatch::Make(products_schema, valid, {name_array, price_array, source_array}));
      result.loaded += valid;
      progress.advance(static_cast<uint64_t>(batch->num_rows()));
    }
    writer.finish();
    write_rejected_rows(db, source, rejected);
  });
  progress.finish();
  result.rejected = static_cast<int64_t>(rejected.size());
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace datalab::spark_upload
