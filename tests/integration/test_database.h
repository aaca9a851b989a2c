#pragma once
// Connection to the real PostgreSQL that scripts/test starts, with the same settings
// precedence as datalab (defaults < ./.env < environment).
#include "core/config.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::test_support {

inline PostgresSettings test_postgres_settings() {
  auto config = Config::with_defaults();
  config.load_env_file(".env", false);
  config.load_environment();
  return PostgresSettings::from(config);
}

}  // namespace datalab::test_support
