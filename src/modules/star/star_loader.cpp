#include "modules/star/star_loader.h"

#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "core/stopwatch.h"
#include "core/dates.h"
#include "core/error.h"
#include "core/progress.h"
#include "modules/star/star_sql.h"
#include "storage/postgres/staging_table.h"

namespace datalab::star {

namespace {

void ok(const arrow::Status& status) {
  if (!status.ok()) throw Error("star input: " + status.ToString());
}
template <typename Builder>
std::shared_ptr<arrow::Array> finish(Builder& builder) {
  auto result = builder.Finish();
  if (!result.ok()) throw Error("star input: " + result.status().ToString());
  return *result;
}

std::shared_ptr<arrow::RecordBatch> customer_batch(const std::vector<CustomerRecord>& rows) {
  std::vector<int64_t> keys;
  for (const auto& r : rows) keys.push_back(r.customer_id);
  const auto rounds = change_rounds(keys);
  arrow::Int32Builder round;
  arrow::Int64Builder id;
  arrow::StringBuilder name, email, phone;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ok(round.Append(rounds[i])); ok(id.Append(rows[i].customer_id));
    ok(name.Append(rows[i].name)); ok(email.Append(rows[i].email)); ok(phone.Append(rows[i].phone));
  }
  return arrow::RecordBatch::Make(StarGenerator::customers_schema(), static_cast<int64_t>(rows.size()),
                                  {finish(round), finish(id), finish(name), finish(email), finish(phone)});
}

std::shared_ptr<arrow::RecordBatch> product_batch(const std::vector<ProductRecord>& rows) {
  std::vector<int64_t> keys;
  for (const auto& r : rows) keys.push_back(r.product_id);
  const auto rounds = change_rounds(keys);
  arrow::Int32Builder round;
  arrow::Int64Builder id;
  arrow::StringBuilder name, category;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ok(round.Append(rounds[i])); ok(id.Append(rows[i].product_id));
    ok(name.Append(rows[i].name)); ok(category.Append(rows[i].category));
  }
  return arrow::RecordBatch::Make(StarGenerator::products_schema(), static_cast<int64_t>(rows.size()),
                                  {finish(round), finish(id), finish(name), finish(category)});
}

std::shared_ptr<arrow::RecordBatch> sales_batch(const std::vector<SaleRecord>& rows) {
  arrow::Int64Builder sale, customer, product;
  arrow::Int32Builder quantity;
  arrow::Decimal128Builder amount(arrow::decimal128(12, 2));
  arrow::TimestampBuilder time(arrow::timestamp(arrow::TimeUnit::MICRO), arrow::default_memory_pool());
  for (const auto& r : rows) {
    ok(sale.Append(r.sale_id)); ok(customer.Append(r.customer_id)); ok(product.Append(r.product_id));
    ok(quantity.Append(r.quantity)); ok(amount.Append(arrow::Decimal128(r.amount_cents)));
    ok(time.Append(r.sale_time_us));
  }
  return arrow::RecordBatch::Make(StarGenerator::sales_schema(), static_cast<int64_t>(rows.size()),
                                  {finish(sale), finish(customer), finish(product), finish(quantity), finish(amount),
                                   finish(time)});
}

StagedInput in_memory(std::shared_ptr<arrow::RecordBatch> batch) {
  StagedInput staged{batch->schema(), batch->num_rows(), {}};
  staged.for_each_batch = [batch](const auto& consume) { consume(*batch); };
  return staged;
}

int64_t copy_into_stage(PgConnection& db, const std::string& table, const StagedInput& input, bool show_progress) {
  StagingTable stage(db, table);
  CopyIn writer = stage.copy(input.schema);
  std::optional<ProgressBar> progress;
  if (show_progress && input.rows > 50'000) progress.emplace("staging " + table, static_cast<uint64_t>(input.rows));
  input.for_each_batch([&](const arrow::RecordBatch& batch) {
    writer.write(batch);
    if (progress) progress->advance(static_cast<uint64_t>(batch.num_rows()));
  });
  const long long rows = writer.finish();
  if (progress) progress->finish();
  stage.analyze();
  return rows;
}

std::vector<RoundChanges> merge_dimension(PgConnection& db, const std::string& dimension, const std::string& stage,
                                          std::string_view close_sql, std::string_view insert_sql,
                                          const std::string& load_date) {
  std::vector<RoundChanges> changes;
  const PgResult per_round = db.exec(fmt::format("SELECT round, count(*) FROM {} GROUP BY round ORDER BY round",
                                                 quote_identifier(stage)));
  for (int i = 0; i < per_round.rows(); ++i) {
    RoundChanges c;
    c.dimension = dimension;
    c.round = static_cast<int>(per_round.integer(i, 0));
    c.received = per_round.integer(i, 1);
    const PgParams params{std::to_string(c.round), load_date};
    c.closed = db.exec(close_sql, params).affected();
    c.opened = db.exec(insert_sql, params).affected();
    c.unchanged = c.received - c.opened;
    changes.push_back(c);
  }
  return changes;
}

}  // namespace

StarBatches batches_from(const StarInput& input) {
  return {in_memory(customer_batch(input.customers)), in_memory(product_batch(input.products)),
          in_memory(sales_batch(input.sales))};
}

StarBatches batches_from(const StarGenerator& generator, int64_t batch_rows) {
  const auto& sizes = generator.sizes();
  auto dimension = [&generator, batch_rows](int64_t population, auto make, std::shared_ptr<arrow::Schema> schema) {
    StagedInput staged{std::move(schema), generator.rows_in_round(population, 1) + generator.rows_in_round(population, 2), {}};
    staged.for_each_batch = [&generator, batch_rows, population, make](const auto& consume) {
      for (int round = 1; round <= 2; ++round) {
        const int64_t total = generator.rows_in_round(population, round);
        for (int64_t begin = 0; begin < total; begin += batch_rows) {
          consume(*make(generator, round, begin, std::min(batch_rows, total - begin)));
        }
      }
    };
    return staged;
  };
  StarBatches batches;
  batches.customers = dimension(
      sizes.customers, [](const StarGenerator& g, int r, int64_t b, int64_t n) { return g.customers(r, b, n); },
      StarGenerator::customers_schema());
  batches.products = dimension(
      sizes.products, [](const StarGenerator& g, int r, int64_t b, int64_t n) { return g.products(r, b, n); },
      StarGenerator::products_schema());
  batches.sales = StagedInput{StarGenerator::sales_schema(), sizes.sales, {}};
  batches.sales.for_each_batch = [&generator, batch_rows, total = sizes.sales](const auto& consume) {
    for (int64_t begin = 0; begin < total; begin += batch_rows) {
      consume(*generator.sales(begin, std::min(batch_rows, total - begin)));
    }
  };
  return batches;
}

StarLoadResult load_star(PgConnection& db, const StarBatches& input, int32_t load_date, LoadMode mode,
                         bool show_progress) {
  const std::string date = format_iso_date(load_date);
  StarLoadResult result;
  db.transaction([&] {
    auto start = std::chrono::steady_clock::now();
    if (mode == LoadMode::Recreate) db.run_script(sql::create_tables, "create_tables.sql");
    db.run_script(sql::create_staging, "create_staging.sql");

    start = std::chrono::steady_clock::now();
    const int64_t customers = copy_into_stage(db, "customer_stage", input.customers, show_progress);
    const int64_t products = copy_into_stage(db, "product_stage", input.products, show_progress);
    result.sales_staged = copy_into_stage(db, "sales_stage", input.sales, show_progress);
    result.steps.push_back({"stage input (COPY binary)", customers + products + result.sales_staged, seconds_since(start)});

    start = std::chrono::steady_clock::now();
    result.changes = merge_dimension(db, "customer_dim", "customer_stage", sql::close_changed_customers,
                                     sql::insert_customer_versions, date);
    auto product_changes = merge_dimension(db, "product_dim", "product_stage", sql::close_changed_products,
                                           sql::insert_product_versions, date);
    result.changes.insert(result.changes.end(), product_changes.begin(), product_changes.end());
    result.steps.push_back({"SCD2 merge of the dimensions", customers + products, seconds_since(start)});

    start = std::chrono::steady_clock::now();
    result.sales_loaded = db.exec(sql::insert_sales).affected();
    // Into a fresh table every staged sale (unique ids) either matched or was unmatched,
    // so counting them again over millions of rows is needed only for incremental loads.
    result.sales_unmatched = mode == LoadMode::Recreate ? result.sales_staged - result.sales_loaded
                                                        : db.exec(sql::count_unmatched_sales).integer(0, 0);
    result.sales_already_loaded = result.sales_staged - result.sales_unmatched - result.sales_loaded;
    if (result.sales_unmatched > 0) {
      const PgResult examples = db.exec(sql::unmatched_sales, {std::to_string(StarLoadResult::kUnmatchedExamples)});
      for (int i = 0; i < examples.rows(); ++i) {
        result.unmatched_examples.emplace_back(examples.integer(i, 0), std::string(examples.value(i, 1)));
      }
    }
    result.steps.push_back({"sales_fact from staging joined to current dimensions", result.sales_loaded,
                            seconds_since(start)});

    if (mode == LoadMode::Recreate) {
      start = std::chrono::steady_clock::now();
      db.run_script(sql::add_fact_keys, "add_fact_keys.sql");
      result.steps.push_back({"foreign keys and indexes", 0, seconds_since(start)});
    }
  });
  return result;
}

}  // namespace datalab::star
