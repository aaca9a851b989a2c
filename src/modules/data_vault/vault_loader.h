#pragma once
// Loads one VaultLoad into the data_vault schema: the input is staged in temporary
// tables, then hubs, links and satellites are filled by the SQL in sql/ — hubs and links
// insert only unseen keys, satellites add a version only when the hash diff changes and
// close the version it replaces. One transaction per load.
#include <cstdint>
#include <string>
#include <vector>

#include "modules/data_vault/vault_source.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::data_vault {

inline constexpr const char* kRecordSource = "datalab.star_input";

struct TableChanges {
  std::string table;
  int64_t added = 0;   // rows inserted (hub keys, links, satellite versions)
  int64_t closed = 0;  // satellite versions given a load_end_date
};

void recreate_vault(PgConnection& db);
// `load_date` is a timestamptz literal; every row this load adds carries it.
std::vector<TableChanges> load_vault(PgConnection& db, const VaultLoad& load, const std::string& load_date,
                                     const std::string& record_source = kRecordSource);

}  // namespace datalab::data_vault
