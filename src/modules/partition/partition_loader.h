#pragma once
// Recreates partition.orders and bulk-loads generated orders: the yearly partitions the
// data needs are created first, then each year's rows are generated as Arrow batches and
// streamed with COPY (binary, FREEZE) straight into their partition, then the busy
// partitions get their index and the table its statistics — all in one transaction, so
// a failed load leaves the previous state intact.
#include <cstdint>
#include <string>
#include <vector>

#include "datagen/order_spread_generator.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::partition {

struct PartitionLoadOptions {
  int64_t batch_rows = 65'536;
  // Partitions with at least this many rows get an index on load_date; smaller ones are
  // cheaper to read sequentially.
  int64_t index_min_rows = 100'000;
  bool show_progress = true;
};

struct PartitionLoadStats {
  int64_t rows = 0;
  double partitions_seconds = 0;  // creating the yearly partitions
  double copy_seconds = 0;   // generation, encoding and COPY
  double index_seconds = 0;  // indexes on the busy partitions
  double analyze_seconds = 0;
  std::vector<std::string> created_partitions;
  std::vector<std::string> indexed_partitions;
};

PartitionLoadStats recreate_and_load(PgConnection& db, const OrderSpreadGenerator& generator,
                                     const PartitionLoadOptions& options);

// Creates the yearly partitions of [first_year, last_year] that partition.orders lacks and
// returns their names. Rows of those years already sitting in the default partition move
// into the new partition (PostgreSQL refuses a new partition while the default one holds
// rows of its range). Call it inside a transaction.
std::vector<std::string> create_missing_year_partitions(PgConnection& db, int first_year, int last_year);

}  // namespace datalab::partition
