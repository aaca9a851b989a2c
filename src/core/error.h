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

// A service (database, object store, broker) failed or could not be reached.
class ServiceError : public Error {
 public:
  explicit ServiceError(const std::string& message) : Error(message, 3) {}
};

}  // namespace datalab
