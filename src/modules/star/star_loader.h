#pragma once
// Loads the star: staged input (COPY binary into temporary tables) is merged into the
// SCD2 dimensions round by round, then sales are joined to the current dimension rows
// into sales_fact. Everything runs in one transaction, so a failed load leaves the
// previous state intact.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <arrow/api.h>

#include "datagen/star_generator.h"
#include "inputs/star_input.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::star {

// The input rows are shared with data_vault (inputs/); the star's code names them as its own.
using inputs::change_rounds;
using inputs::CustomerRecord;
using inputs::fixture_input;
using inputs::InputRejection;
using inputs::ProductRecord;
using inputs::read_star_directory;
using inputs::SaleRecord;
using inputs::StarInput;

// The batches of one staging table, produced on demand so memory stays bounded.
struct StagedInput {
  std::shared_ptr<arrow::Schema> schema;
  int64_t rows = 0;
  std::function<void(const std::function<void(const arrow::RecordBatch&)>&)> for_each_batch;
};

struct StarBatches {
  StagedInput customers, products, sales;
};

// Validated input rows (small) as batches; repeated keys become rounds 2, 3, ...
StarBatches batches_from(const StarInput& input);
// Generated rows, `batch_rows` at a time.
StarBatches batches_from(const StarGenerator& generator, int64_t batch_rows);

struct RoundChanges {
  std::string dimension;  // customer_dim | product_dim
  int round = 0;
  int64_t received = 0, unchanged = 0, closed = 0, opened = 0;
};

struct StepTiming {
  std::string step;
  int64_t rows = 0;
  double seconds = 0;
};

struct StarLoadResult {
  std::vector<RoundChanges> changes;
  int64_t sales_staged = 0, sales_loaded = 0, sales_already_loaded = 0, sales_unmatched = 0;
  // The first kUnmatchedExamples sales without a current customer or product: (sale_id, reason).
  std::vector<std::pair<int64_t, std::string>> unmatched_examples;
  std::vector<StepTiming> steps;
  static constexpr int kUnmatchedExamples = 20;
};

enum class LoadMode {
  Recreate,     // drop and rebuild the star schema first (what `datalab run star` does)
  Incremental,  // merge into the existing tables (SCD2 on top of what is there)
};

StarLoadResult load_star(PgConnection& db, const StarBatches& input, int32_t load_date, LoadMode mode,
                         bool show_progress);

}  // namespace datalab::star
