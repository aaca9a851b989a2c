#pragma once
// Layered settings: built-in defaults < .env files < environment variables < flags.
// Keys are the original project's variable names (POSTGRES_DB, DB_HOST, ...), so an
// existing .env drops in unchanged.
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

  // The effective value of a datalab setting, the one way code reads a setting: the
  // highest-priority layer's value, or the built-in default when that value is empty (an
  // empty POSTGRES_PASSWORD, CLICKHOUSE_PASSWORD or SPARK_CONNECT_URL stays empty: there empty
  // is a value of its own). Defaults are written only in the table in config.cpp; a key that
  // table does not know is a programming error and throws ConfigError.
  std::string value(const std::string& key) const;
  // value() as an integer; throws ConfigError naming the key when it is not one.
  long long get_int(const std::string& key) const;
  // The value exactly as the highest layer set it (nullopt when no layer did), for showing
  // and inspecting settings; code that uses a setting calls value().
  std::optional<std::string> get(const std::string& key) const;
  SettingSource source_of(const std::string& key) const;
  // Throws ConfigError for a value that can never be valid (a port that is not a number in
  // 1..65535, a negative attempt count), naming the key and where the value came from.
  void validate() const;
  std::vector<std::string> keys() const;

  // True for passwords, tokens and secret keys: such values are never printed.
  static bool is_secret(const std::string& key);
  // The value as it may be shown to a user: secrets masked (mask_secrets' kSecretMask).
  std::string display(const std::string& key) const;

 private:
  struct Entry {
    std::string value;
    SettingSource source;
  };
  std::map<std::string, Entry> entries_;
};

// What a masked secret reads as, wherever datalab shows one.
inline constexpr std::string_view kSecretMask = "********";

// The one place secrets are masked: every occurrence in `text` of each non-empty secret
// (password, token, secret key) is replaced by kSecretMask, and so are the password of a
// URL (scheme://user:password@host) and the value of a `token=` parameter (SPARK_CONNECT_URL's ";token=..."). Error messages from services
// (libpq, ClickHouse, S3, Spark, curl) pass through it before they are shown.
std::string mask_secrets(std::string text, const std::vector<std::string>& secrets = {});

// Parses the text of an .env file into ordered key/value pairs; `origin` names the
// file in error messages.
std::vector<std::pair<std::string, std::string>> parse_env_text(const std::string& text,
                                                                const std::string& origin);

}  // namespace datalab
