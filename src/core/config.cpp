#include "core/config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

namespace {

// The original project's names and defaults (SPEC.md, "Configuration").
const std::vector<std::pair<std::string, std::string>> kDefaults = {
    {"POSTGRES_DB", "it_one"},
    {"POSTGRES_USER", "it_one"},
    {"POSTGRES_PASSWORD", "it_one"},
    {"DB_HOST", "127.0.0.1"},
    {"DB_PORT", "10452"},
    {"CLICKHOUSE_DB", "it_one"},
    {"CLICKHOUSE_USER", "it_one"},
    {"CLICKHOUSE_PASSWORD", "it_one"},
    {"CLICKHOUSE_DB_HOST", "localhost"},
    {"CLICKHOUSE_DB_PORT", "10453"},
    {"CLICKHOUSE_NATIVE_PORT", "10454"},
    {"S3_ENDPOINT", ""},
    {"AWS_ACCESS_KEY_ID", ""},
    {"AWS_SECRET_ACCESS_KEY", ""},
    {"S3_REGION", "us-east-1"},
    {"S3_BUCKET", "s3-bucket"},
    {"S3_CATALOG", "it-one"},
    {"S3_NAMESPACE", "main"},
    {"S3_TABLE", "products"},
    {"SPARK_BUCKET", "spark-bucket"},
    // Without S3_ENDPOINT the object store is this local directory (same layout: <dir>/<bucket>/<key>).
    {"S3_LOCAL_DIR", ".state/objectstore"},
    {"BOOTSTRAP_SERVER", "127.0.0.1:9092"},
    {"SPARK_MASTER_URL", "spark://127.0.0.1:7077"},
    {"SPARK_CONNECT_URL", "sc://127.0.0.1:15002"},
    {"TG_CHAT_ID", ""},
    {"TG_TOKEN", ""},
    // Week 9 delivery service (datalab serve): Telegram API base address (tests point it at a
    // local receiver), notification attempts, optional bearer token for every endpoint.
    {"TG_API_URL", "https://api.telegram.org"},
    {"TG_ATTEMPTS", "4"},
    {"TG_BACKOFF_SECONDS", "0.5"},
    {"DATALAB_API_TOKEN", ""},
    {"DELIVERY_BUCKET", "delivery"},
};

// Numeric settings and their valid range, checked once after loading (Config::validate).
struct NumericRule {
  const char* key;
  double min, max;
  bool integer;
};
const NumericRule kNumericRules[] = {
    {"DB_PORT", 1, 65535, true},
    {"CLICKHOUSE_DB_PORT", 1, 65535, true},
    {"CLICKHOUSE_NATIVE_PORT", 1, 65535, true},
    {"TG_ATTEMPTS", 1, 100, true},
    {"TG_BACKOFF_SECONDS", 0, 3600, false},
};

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

bool valid_key(const std::string& key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(SettingSource source) {
  switch (source) {
    case SettingSource::Default: return "default";
    case SettingSource::EnvFile: return ".env file";
    case SettingSource::Environment: return "environment";
    case SettingSource::Flag: return "flag";
  }
  return "?";
}

Config Config::with_defaults() {
  Config config;
  for (const auto& [key, value] : kDefaults) config.set(key, value, SettingSource::Default);
  return config;
}

std::vector<std::pair<std::string, std::string>> parse_env_text(const std::string& text,
                                                                const std::string& origin) {
  std::vector<std::pair<std::string, std::string>> result;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    const auto eq = line.find('=');
    const std::string key = eq == std::string::npos ? line : trim(line.substr(0, eq));
    if (eq == std::string::npos || !valid_key(key)) {
      throw ConfigError(fmt::format("{}:{}: expected KEY=VALUE, got a line starting with '{}'",
                                    origin, number, key.substr(0, 20)));
    }
    std::string value = trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (const auto hash = value.find(" #"); hash != std::string::npos) {
      value = trim(value.substr(0, hash));  // inline comment after an unquoted value
    }
    result.emplace_back(key, value);
  }
  return result;
}

void Config::load_env_file(const std::string& path, bool required) {
  std::ifstream in(path);
  if (!in) {
    if (required) throw ConfigError(fmt::format("cannot read env file '{}'", path));
    return;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  for (auto& [key, value] : parse_env_text(buffer.str(), path)) {
    set(key, std::move(value), SettingSource::EnvFile);
  }
}

void Config::load_environment() {
  for (const auto& key : keys()) {
    if (const char* value = std::getenv(key.c_str())) set(key, value, SettingSource::Environment);
  }
}

void Config::set_from_flag(const std::string& assignment) {
  const auto eq = assignment.find('=');
  const std::string key = eq == std::string::npos ? assignment : assignment.substr(0, eq);
  if (eq == std::string::npos || !valid_key(key)) {
    throw ConfigError(fmt::format("--set expects KEY=VALUE, got '{}'", key));
  }
  set(key, assignment.substr(eq + 1), SettingSource::Flag);
}

void Config::set(const std::string& key, std::string value, SettingSource source) {
  auto it = entries_.find(key);
  // A lower-priority layer never overrides a higher one, whatever the call order.
  if (it != entries_.end() && it->second.source > source) return;
  entries_[key] = Entry{std::move(value), source};
}

std::optional<std::string> Config::get(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.value;
}

std::string Config::get_or(const std::string& key, const std::string& fallback) const {
  auto value = get(key);
  return value && !value->empty() ? *value : fallback;
}

long long Config::get_int(const std::string& key) const {
  const auto value = get(key);
  if (!value) throw ConfigError(fmt::format("setting {} is missing", key));
  try {
    std::size_t used = 0;
    const long long number = std::stoll(*value, &used);
    if (used != value->size()) throw std::invalid_argument("trailing characters");
    return number;
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("setting {} must be an integer, got '{}' (from {})", key,
                                  is_secret(key) ? "***" : *value, to_string(source_of(key))));
  }
}

void Config::validate() const {
  for (const auto& rule : kNumericRules) {
    const auto value = get(rule.key);
    if (!value || value->empty()) continue;  // empty: the built-in default applies
    bool ok = false;
    try {
      std::size_t used = 0;
      const double number = rule.integer ? static_cast<double>(std::stoll(*value, &used)) : std::stod(*value, &used);
      ok = used == value->size() && number >= rule.min && number <= rule.max;
    } catch (const std::exception&) {
    }
    if (!ok) {
      throw ConfigError(fmt::format("setting {} must be {} from {} to {}, got '{}' (from {})", rule.key,
                                    rule.integer ? "an integer" : "a number", rule.min, rule.max, *value,
                                    to_string(source_of(rule.key))));
    }
  }
}

SettingSource Config::source_of(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? SettingSource::Default : it->second.source;
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> result;
  for (const auto& [key, entry] : entries_) result.push_back(key);
  return result;
}

bool Config::is_secret(const std::string& key) {
  for (const char* marker : {"PASSWORD", "SECRET", "TOKEN"}) {
    if (key.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::string Config::display(const std::string& key) const {
  const auto value = get(key).value_or("");
  if (is_secret(key) && !value.empty()) return "********";
  // A token inside a URL (SPARK_CONNECT_URL's ";token=..."): mask the token only.
  std::string shown = value;
  for (auto pos = shown.find("token="); pos != std::string::npos; pos = shown.find("token=", pos + 1)) {
    const auto begin = pos + 6, end = std::min(shown.find(';', begin), shown.size());
    shown.replace(begin, end - begin, "********");
  }
  return shown;
}

}  // namespace datalab
