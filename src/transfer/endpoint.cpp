#include "transfer/endpoint.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab::transfer {

namespace {

struct UrlParts {
  std::string scheme, user, password, host, port, path;
  bool has_password = false;
  std::vector<std::pair<std::string, std::string>> query;
};

[[noreturn]] void malformed(const std::string& text, const std::string& why) {
  throw ConfigError(fmt::format("'{}' is not a valid URL: {}", mask_url(text), why));
}

// scheme://[user[:password]@]host[:port][/path][?name=value&…], as libpq reads URIs. A
// password holding a raw '@', '/' or '?' is told apart from the host by the '@' left over.
UrlParts split_url(const std::string& text) {
  UrlParts parts;
  const auto scheme_end = text.find("://");
  parts.scheme = text.substr(0, scheme_end);
  std::string rest = text.substr(scheme_end + 3);
  const auto authority_end = std::min(rest.find_first_of("/?"), rest.size());
  std::string authority = rest.substr(0, authority_end);
  std::string after = rest.substr(authority_end);
  const auto at_count = std::count(authority.begin(), authority.end(), '@');
  if (at_count > 1) malformed(text, "the user or password holds a raw '@': percent-encode it as %40");
  if (at_count == 0 && after.find('@') != std::string::npos && authority.find(':') != std::string::npos &&
      after.find('@') < after.find('=')) {
    malformed(text, "the password holds a raw '/' or '?', which ends the host part early: percent-encode them "
                    "as %2F and %3F");
  }
  if (at_count == 1) {
    const auto at = authority.find('@');
    const std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    parts.user = percent_decode(userinfo.substr(0, colon), "the user name");
    if (colon != std::string::npos) {
      parts.has_password = true;
      parts.password = percent_decode(userinfo.substr(colon + 1), "the password");
    }
  }
  if (!authority.empty() && authority[0] == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string::npos) malformed(text, "an IPv6 host lacks its closing ']'");
    parts.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') malformed(text, "something other than ':port' follows the IPv6 host");
      parts.port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    parts.host = percent_decode(authority.substr(0, colon), "the host");
    if (colon != std::string::npos) parts.port = authority.substr(colon + 1);
  }
  if (!parts.port.empty() && (parts.port.size() > 5 || !std::all_of(parts.port.begin(), parts.port.end(), ::isdigit) ||
                              std::stoi(parts.port) < 1 || std::stoi(parts.port) > 65535)) {
    malformed(text, fmt::format("the port '{}' is not a number from 1 to 65535", parts.port));
  }
  const auto question = after.find('?');
  parts.path = percent_decode(after.substr(0, question), "the path");
  if (question != std::string::npos) {
    const std::string query = after.substr(question + 1);
    std::size_t begin = 0;
    while (begin <= query.size()) {
      const auto end = std::min(query.find('&', begin), query.size());
      const std::string pair = query.substr(begin, end - begin);
      if (!pair.empty()) {
        const auto equals = pair.find('=');
        if (equals == std::string::npos) malformed(text, fmt::format("the parameter '{}' has no '=value'", pair));
        parts.query.emplace_back(percent_decode(pair.substr(0, equals), "a parameter name"),
                                 percent_decode(pair.substr(equals + 1), "the parameter " + pair.substr(0, equals)));
      }
      begin = end + 1;
    }
  }
  return parts;
}

FileFormat format_of(const std::string& path, const std::string& text) {
  std::string name = path;
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  if (name.ends_with(".parquet")) return FileFormat::parquet;
  if (name.ends_with(".csv")) return FileFormat::csv;
  if (name.ends_with(".jsonl") || name.ends_with(".ndjson") || name.ends_with(".json")) return FileFormat::jsonl;
  throw ConfigError(fmt::format("'{}': cannot tell the file format from the name; use a name ending in .parquet, "
                                ".csv or .jsonl (or a folder/glob of such files, e.g. folder/*.parquet)",
                                mask_url(text)));
}

void fill_from(Endpoint& e, const UrlParts& parts) {
  if (!parts.user.empty()) e.user = parts.user;
  if (parts.has_password) e.password = parts.password;
  if (!parts.host.empty()) e.host = parts.host;
  if (!parts.port.empty()) e.port = parts.port;
}

void take_query(Endpoint& e, const UrlParts& parts) {
  for (const auto& [name, value] : parts.query) {
    if (name == "table") e.table = value;
    else if (name == "query") e.query = value;
    else e.options[name] = value;
  }
  if (!e.table.empty() && !e.query.empty()) {
    throw ConfigError(fmt::format("'{}': give either ?table= or ?query=, not both", e.masked));
  }
}

Endpoint parse_postgres(const std::string& text, const Config& config) {
  Endpoint e;
  e.kind = EndpointKind::postgres;
  e.masked = mask_url(text);
  e.user = config.value("POSTGRES_USER");
  e.password = config.value("POSTGRES_PASSWORD");
  e.host = config.value("DB_HOST");
  e.port = config.value("DB_PORT");
  e.database = config.value("POSTGRES_DB");
  const std::string database_url = config.value("DATABASE_URL");
  if (!database_url.empty()) {
    if (!database_url.starts_with("postgres://") && !database_url.starts_with("postgresql://")) {
      throw ConfigError(fmt::format("DATABASE_URL '{}' is not a postgres:// URL", mask_url(database_url)));
    }
    const UrlParts base = split_url(database_url);
    fill_from(e, base);
    if (base.path.size() > 1) e.database = base.path.substr(1);
  }
  const UrlParts parts = split_url(text);
  fill_from(e, parts);
  if (parts.path.size() > 1) e.database = parts.path.substr(1);
  take_query(e, parts);
  return e;
}

Endpoint parse_clickhouse(const std::string& text, const Config& config) {
  Endpoint e;
  e.kind = EndpointKind::clickhouse;
  e.masked = mask_url(text);
  e.user = config.value("CLICKHOUSE_USER");
  e.password = config.value("CLICKHOUSE_PASSWORD");
  e.host = config.value("CLICKHOUSE_DB_HOST");
  e.port = config.value("CLICKHOUSE_DB_PORT");
  e.database = config.value("CLICKHOUSE_DB");
  const UrlParts parts = split_url(text);
  fill_from(e, parts);
  take_query(e, parts);
  if (parts.path.size() > 1) {  // /db.table or /db
    const std::string path = parts.path.substr(1);
    const auto dot = path.find('.');
    if (dot == std::string::npos) {
      e.database = path;
    } else {
      e.database = path.substr(0, dot);
      if (e.table.empty()) e.table = path.substr(dot + 1);
    }
  }
  return e;
}

Endpoint parse_files(const std::string& text) {
  Endpoint e;
  e.kind = EndpointKind::files;
  e.masked = mask_url(text);
  e.location = text;
  if (text.starts_with("s3://")) {
    e.s3 = true;
    const std::string rest = text.substr(5);
    const auto slash = rest.find('/');
    e.bucket = rest.substr(0, slash);
    e.key = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (e.bucket.empty()) throw ConfigError(fmt::format("'{}' names no bucket (s3://bucket/key)", text));
  } else if (text.starts_with("file://")) {
    e.location = text.substr(7);
  }
  const std::string& path = e.s3 ? e.key : e.location;
  const std::string name = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  if (!name.empty() && name != "*") e.format = format_of(name, text);
  return e;
}

}  // namespace

const char* Endpoint::kind_name() const {
  switch (kind) {
    case EndpointKind::postgres: return "PostgreSQL";
    case EndpointKind::clickhouse: return "ClickHouse";
    case EndpointKind::files: return s3 ? "files on S3" : "local files";
    case EndpointKind::iceberg: return "Iceberg";
    case EndpointKind::kafka: return "Kafka";
    case EndpointKind::postgres_cdc: return "PostgreSQL changes";
  }
  return "?";
}

std::string percent_decode(const std::string& text, const std::string& what) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || !std::isxdigit(static_cast<unsigned char>(text[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      throw ConfigError(fmt::format("{} holds a '%' that is not followed by two hex digits (write a literal % as %25)",
                                    what));
    }
    out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

std::string mask_url(const std::string& text) { return mask_secrets(text); }

Endpoint parse_endpoint(const std::string& text, const Config& config) {
  if (text.empty()) throw ConfigError("an empty source or target: give a URL or a path");
  if (text.starts_with("postgres://") || text.starts_with("postgresql://")) return parse_postgres(text, config);
  if (text.starts_with("postgres+cdc://")) {  // the same URL, read as a change stream
    Endpoint e = parse_postgres("postgres://" + text.substr(std::string_view("postgres+cdc://").size()), config);
    e.kind = EndpointKind::postgres_cdc;
    e.masked = mask_url(text);
    return e;
  }
  if (text.starts_with("clickhouse://")) return parse_clickhouse(text, config);
  if (text.starts_with("iceberg://") || text.starts_with("kafka://")) {
    Endpoint e;
    const UrlParts parts = split_url(text);
    e.masked = mask_url(text);
    if (text.starts_with("iceberg://")) {
      e.kind = EndpointKind::iceberg;
      e.catalog = parts.host;
      e.table = parts.path.size() > 1 ? parts.path.substr(1) : "";
    } else {
      e.kind = EndpointKind::kafka;
      e.host = parts.host;
      e.port = parts.port;
      e.topic = parts.path.size() > 1 ? parts.path.substr(1) : "";
    }
    take_query(e, parts);
    return e;
  }
  const auto scheme = text.find("://");
  if (scheme != std::string::npos && !text.starts_with("s3://") && !text.starts_with("file://")) {
    throw ConfigError(fmt::format("'{}': unknown kind '{}://' (expected postgres://, postgres+cdc://, clickhouse://, "
                                  "s3://, iceberg://, kafka://, file:// or a local path)",
                                  mask_url(text), text.substr(0, scheme)));
  }
  return parse_files(text);
}

}  // namespace datalab::transfer
