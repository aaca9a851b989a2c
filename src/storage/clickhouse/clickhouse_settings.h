#pragma once
// ClickHouse connection settings from the original variable names (CLICKHOUSE_DB, ...).
#include <string>

#include "core/config.h"

namespace datalab {

struct ClickHouseSettings {
  std::string host, port, database, user, password;

  static ClickHouseSettings from(const Config& config);
  // "it_one@localhost:10453/it_one" — never includes the password.
  std::string describe() const;
  // "http://localhost:10453/" — credentials travel in headers, never in the URL.
  std::string base_url() const;
};

}  // namespace datalab
