#pragma once
// PostgreSQL connection settings from the original variable names.
#include <string>

#include "core/config.h"

namespace datalab {

struct PostgresSettings {
  std::string host, port, database, user, password;

  static PostgresSettings from(const Config& config);
  // "it_one@127.0.0.1:10452/it_one" — never includes the password.
  std::string describe() const;
};

}  // namespace datalab
