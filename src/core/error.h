#pragma once
// One error model: every failure that reaches the user is an exception of one of the kinds
// below, and each kind maps to one exit code (README, Exit codes): Error 1, ConfigError 2,
// ServiceError 3, RejectedRows 4. Nothing returns an exit code beside throwing; main() turns
// the exception into its message and code.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace datalab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : Error(message, 1) {}
  int exit_code() const { return exit_code_; }

 protected:
  // Only the kinds below choose another code, so a code always names its kind.
  Error(const std::string& message, int exit_code) : std::runtime_error(message), exit_code_(exit_code) {}

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

// Some input rows were rejected (exit code 4). Thrown after the rows and their reasons have
// been reported (the report is finished first, so JSON output is complete), by a module run
// or a command; the rest of the input was processed.
class RejectedRows : public Error {
 public:
  RejectedRows(const std::string& message, int64_t rows) : Error(message, 4), rows_(rows) {}
  int64_t rows() const { return rows_; }

 private:
  int64_t rows_;
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
