#include "storage/spark/spark_connect_settings.h"

#include <charconv>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab::spark {

namespace {

bool parse_bool(const std::string& value) { return value == "true" || value == "1" || value == "yes"; }

}  // namespace

SparkConnectSettings SparkConnectSettings::parse(const std::string& url) {
  constexpr std::string_view scheme = "sc://";
  if (url.rfind(scheme, 0) != 0) {
    throw ConfigError(fmt::format("SPARK_CONNECT_URL must look like sc://host:port, got '{}'",
                                  url.substr(0, url.find(';'))));
  }
  SparkConnectSettings settings;
  std::string rest = url.substr(scheme.size());
  std::string params;
  if (const auto cut = rest.find_first_of("/;"); cut != std::string::npos) {
    params = rest.substr(cut);
    rest = rest.substr(0, cut);
  }
  if (rest.empty()) throw ConfigError("SPARK_CONNECT_URL has no host (expected sc://host:port)");
  if (const auto colon = rest.rfind(':'); colon != std::string::npos && rest.find(']') == std::string::npos) {
    settings.host = rest.substr(0, colon);
    const std::string port = rest.substr(colon + 1);
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      throw ConfigError(fmt::format("SPARK_CONNECT_URL has an invalid port '{}'", port));
    }
    settings.port = value;
  } else {
    settings.host = rest;  // Spark's default port
  }
  // Parameters: "/;user_id=alice;token=..." (the leading '/' is optional).
  std::size_t pos = 0;
  while (pos < params.size()) {
    auto next = params.find(';', pos);
    if (next == std::string::npos) next = params.size();
    const std::string item = params.substr(pos, next - pos);
    pos = next + 1;
    if (item.empty() || item == "/") continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw ConfigError(fmt::format("SPARK_CONNECT_URL parameter '{}' has no value", item));
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == "user_id") settings.user_id = value;
    else if (key == "token") settings.token = value;
    else if (key == "use_ssl") settings.use_ssl = parse_bool(value);
    // Other parameters (session_id, user_agent, ...) only matter to other clients.
  }
  return settings;
}

SparkConnectSettings SparkConnectSettings::from(const Config& config) {
  const std::string url = config.value("SPARK_CONNECT_URL");
  if (url.empty()) {
    throw ConfigError("SPARK_CONNECT_URL is empty: set it to the Spark Connect server (sc://host:port)");
  }
  return parse(url);
}

std::string SparkConnectSettings::target() const { return fmt::format("{}:{}", host, port); }

std::string SparkConnectSettings::describe() const {
  return fmt::format("sc://{}:{} (user {}{})", host, port, user_id, use_ssl ? ", TLS" : "");
}

}  // namespace datalab::spark
