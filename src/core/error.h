#pragma once
// Errors that reach the user carry context and map to an exit code.
#include <stdexcept>
#include <string>

namespace datalab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = 1)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Bad settings or flags (exit code 2, like a usage error).
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message) : Error(message, 2) {}
};

// A service (database, object store, broker) failed or could not be reached. A connector
// that could not reach its server names the service ("spark", "seaweedfs"): the CLI, which
// knows how the lab starts its services, adds that hint; connectors know no scripts.
class ServiceError : public Error {
 public:
  explicit ServiceError(const std::string& message, std::string unreachable_service = "")
      : Error(message, 3), unreachable_service_(std::move(unreachable_service)) {}
  const std::string& unreachable_service() const { return unreachable_service_; }

 private:
  std::string unreachable_service_;
};

// A schema a command reads does not exist (yet); the CLI hints at the module that makes it.
class MissingSchemaError : public ConfigError {
 public:
  explicit MissingSchemaError(const std::string& schema)
      : ConfigError("schema '" + schema + "' does not exist"), schema_(schema) {}
  const std::string& schema() const { return schema_; }

 private:
  std::string schema_;
};

}  // namespace datalab
