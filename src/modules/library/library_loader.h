#pragma once
// Recreates the library schema and bulk-loads generated data: Arrow batches from the
// generator stream through COPY (binary) into bare tables, then keys and indexes are
// added — all in one transaction, so a failed load leaves the previous state intact.
#include <cstdint>
#include <string>
#include <vector>

#include "datagen/library_generator.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::library {

struct LoadStats {
  std::string table;
  int64_t rows = 0;
  double seconds = 0;
};

struct LoadOptions {
  int64_t batch_rows = 65'536;
  bool show_progress = true;
};

// Returns one entry per table plus one for "keys and indexes".
std::vector<LoadStats> recreate_and_load(PgConnection& db, const LibraryGenerator& generator,
                                         const LoadOptions& options);

}  // namespace datalab::library
