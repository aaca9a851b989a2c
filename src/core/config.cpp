#include "core/config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

namespace {

// Every datalab setting and its default: the only place a default is written (SPEC.md,
// "Configuration"). Code reads settings through Config::value(), which falls back to these
// when a value is empty, so a call site cannot carry a default of its own.
// The values a numeric setting may take, checked once after loading (Config::validate).
struct NumericRange {
  double min, max;
  bool integer;
};
constexpr NumericRange kPort{1, 65535, true};

struct Setting {
  const char* key;
  const char* default_value;
  // An empty value is a value of its own (no password; "not configured") instead of "use the default".
  bool empty_is_a_value = false;
  std::optional<NumericRange> range = std::nullopt;
};
const std::vector<Setting> kDefaults = {
    {"POSTGRES_DB", "it_one"},
    {"POSTGRES_USER", "it_one"},
    {"POSTGRES_PASSWORD", "it_one", /*empty_is_a_value=*/true},
    {"DB_HOST", "127.0.0.1"},
    {"DB_PORT", "10452", false, kPort},
    // libpq URI for `datalab copy` ends that leave parts out (postgres:///?table=t); empty: the DB_* settings.
    {"DATABASE_URL", ""},
    {"CLICKHOUSE_DB", "it_one"},
    {"CLICKHOUSE_USER", "it_one"},
    {"CLICKHOUSE_PASSWORD", "it_one", /*empty_is_a_value=*/true},
    {"CLICKHOUSE_DB_HOST", "localhost"},
    {"CLICKHOUSE_DB_PORT", "10453", false, kPort},
    {"CLICKHOUSE_NATIVE_PORT", "10454", false, kPort},
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
    // Week 8 topics: the flights topic, its dead-letter topic (empty: <KAFKA_TOPIC>.dlq), the
    // flights topic's partitions and both topics' retention (5 minutes, as the original).
    {"KAFKA_TOPIC", "it-one"},
    {"KAFKA_DLQ_TOPIC", ""},
    {"KAFKA_TOPIC_PARTITIONS", "3", false, NumericRange{1, 10'000, true}},
    {"KAFKA_RETENTION_MS", "300000", false, NumericRange{-1, 1e15, true}},
    {"SPARK_MASTER_URL", "spark://127.0.0.1:7077"},
    {"SPARK_CONNECT_URL", "sc://127.0.0.1:15002", /*empty_is_a_value=*/true},  // empty: refused, with a hint
    {"TG_CHAT_ID", ""},
    {"TG_TOKEN", ""},
    // Week 9 delivery service (datalab serve): Telegram API base address (tests point it at a
    // local receiver), notification attempts, optional bearer token for every endpoint.
    {"TG_API_URL", "https://api.telegram.org"},
    {"TG_ATTEMPTS", "4", false, NumericRange{1, 100, true}},
    {"TG_BACKOFF_SECONDS", "0.5", false, NumericRange{0, 3600, false}},
    {"DATALAB_API_TOKEN", ""},
    {"DELIVERY_BUCKET", "delivery"},
};

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

const Setting* find_setting(const std::string& key) {
  for (const auto& setting : kDefaults) {
    if (key == setting.key) return &setting;
  }
  return nullptr;
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
  for (const auto& setting : kDefaults) config.set(setting.key, setting.default_value, SettingSource::Default);
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

std::string Config::value(const std::string& key) const {
  const Setting* setting = find_setting(key);
  if (!setting) {
    throw ConfigError(fmt::format("setting {} is not a datalab setting (src/core/config.cpp lists them)", key));
  }
  const auto it = entries_.find(key);
  if (it != entries_.end() && (!it->second.value.empty() || setting->empty_is_a_value)) return it->second.value;
  return setting->default_value;
}

long long Config::get_int(const std::string& key) const {
  const std::string text = value(key);
  try {
    std::size_t used = 0;
    const long long number = std::stoll(text, &used);
    if (used != text.size()) throw std::invalid_argument("trailing characters");
    return number;
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("setting {} must be an integer, got '{}' (from {})", key,
                                  is_secret(key) ? std::string(kSecretMask) : text, to_string(source_of(key))));
  }
}

void Config::validate() const {
  for (const auto& setting : kDefaults) {
    if (!setting.range) continue;
    const auto& range = *setting.range;
    const auto value = get(setting.key);
    if (!value || value->empty()) continue;  // empty: the built-in default applies
    bool ok = false;
    try {
      std::size_t used = 0;
      const double number = range.integer ? static_cast<double>(std::stoll(*value, &used)) : std::stod(*value, &used);
      ok = used == value->size() && number >= range.min && number <= range.max;
    } catch (const std::exception&) {
    }
    if (!ok) {
      throw ConfigError(fmt::format("setting {} must be {} from {} to {}, got '{}' (from {})", setting.key,
                                    range.integer ? "an integer" : "a number", range.min, range.max, *value,
                                    to_string(source_of(setting.key))));
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
  if (is_secret(key) && !value.empty()) return std::string(kSecretMask);
  return mask_secrets(value);
}

std::string mask_secrets(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kSecretMask.size())) {
      text.replace(at, secret.size(), kSecretMask);
    }
  }
  // The password of a URL (scheme://user:password@host…): everything between the user's ':'
  // and the last '@' of the URL, so a password holding a raw '@', '/' or '?' is masked whole.
  for (auto scheme = text.find("://"); scheme != std::string::npos; scheme = text.find("://", scheme + 3)) {
    const auto begin = scheme + 3;
    const auto url_end = std::min(text.find_first_of(" \t\r\n\"'", begin), text.size());
    const auto at = text.rfind('@', url_end == 0 ? 0 : url_end - 1);
    if (at == std::string::npos || at < begin) continue;
    const auto colon = text.find(':', begin);
    if (colon == std::string::npos || colon > at || text.compare(colon + 1, at - colon - 1, kSecretMask) == 0) continue;
    text.replace(colon + 1, at - colon - 1, kSecretMask);
  }
  // A token inside a URL (SPARK_CONNECT_URL's ";token=..."): mask the token only.
  for (auto pos = text.find("token="); pos != std::string::npos; pos = text.find("token=", pos + 1)) {
    const auto begin = pos + 6;
    const auto end = std::min(text.find_first_of("; \t\r\n&\"'", begin), text.size());
    text.replace(begin, end - begin, kSecretMask);
  }
  return text;
}

}  // namespace datalab
