#pragma once
// Layered settings: built-in defaults < .env files < environment variables < flags.
// Keys are the original project's variable names (POSTGRES_DB, DB_HOST, ...), so an
// existing .env drops in unchanged.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace datalab {

enum class SettingSource { Default, EnvFile, Environment, Flag };
std::string_view to_string(SettingSource source);

class Config {
 public:
  // A config holding only the built-in defaults.
  static Config with_defaults();

  // Reads KEY=VALUE lines (optional `export`, quotes, # comments). Throws ConfigError
  // naming the file and line on a malformed line; a missing file is an error only when required.
  void load_env_file(const std::string& path, bool required);
  // Takes every known key (defaults and anything loaded so far) from the process environment.
  void load_environment();
  // Parses a `KEY=VALUE` flag.
  void set_from_flag(const std::string& assignment);
  void set(const std::string& key, std::string value, SettingSource source);

  std::optional<std::string> get(const std::string& key) const;
  std::string get_or(const std::string& key, const std::string& fallback) const;
  // The value as an integer; throws ConfigError naming the key when it is not one.
  long long get_int(const std::string& key) const;
  SettingSource source_of(const std::string& key) const;
  // Throws ConfigError for a value that can never be valid (a port that is not a number in
  // 1..65535, a negative attempt count), naming the key and where the value came from.
  void validate() const;
  std::vector<std::string> keys() const;

  // True for passwords, tokens and secret keys: such values are never printed.
  static bool is_secret(const std::string& key);
  // The value as it may be shown to a user: secrets masked.
  std::string display(const std::string& key) const;

 private:
  struct Entry {
    std::string value;
    SettingSource source;
  };
  std::map<std::string, Entry> entries_;
};

// Parses the text of an .env file into ordered key/value pairs; `origin` names the
// file in error messages.
std::vector<std::pair<std::string, std::string>> parse_env_text(const std::string& text,
                                                                const std::string& origin);

}  // namespace datalab
