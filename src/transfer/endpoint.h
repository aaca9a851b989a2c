#pragma once
// One end of `datalab copy`, parsed from what the user typed:
//   postgres://user:pass@host:port/db?table=schema.t | ?query=SELECT …   (libpq URI syntax)
//   clickhouse://user:pass@host:port/db.table | …/db?query=SELECT …
//   s3://bucket/key.parquet, s3://bucket/folder/, s3://bucket/folder/*.csv, or a local
//   path (file.parquet, folder/, folder/*.jsonl, file:///abs/path); formats parquet, csv, jsonl
//   iceberg://catalog/namespace.table, kafka://host:port/topic
//   postgres+cdc://user:pass@host:port/db?publication=P&slot=S (a change stream, transfer/cdc)
// User, password, host and database percent-decode; parts left out of a PostgreSQL or
// ClickHouse URL come from DATABASE_URL (PostgreSQL) and then from datalab's settings.
// A malformed URL is a ConfigError that says where it is wrong; the password never appears
// in a message (masked()).
#include <map>
#include <optional>
#include <string>

#include "core/config.h"

namespace datalab::transfer {

enum class EndpointKind { postgres, clickhouse, files, iceberg, kafka, postgres_cdc };
enum class FileFormat { parquet, csv, jsonl };

struct Endpoint {
  EndpointKind kind = EndpointKind::files;
  std::string masked;  // the text as typed, password replaced by ***

  // postgres, clickhouse, kafka (host, port)
  std::string user, password, host, port, database;
  std::string table;  // "schema.table" (postgres) or "table" (clickhouse, in `database`)
  std::string query;  // a SELECT instead of a table (sources only)
  std::map<std::string, std::string> options;  // other ?name=value pairs (sslmode, …)

  // files: "s3://bucket/key…" or a local path (a file, a folder ending in '/', or a glob
  // such as folder/*.csv); the format from the name, unknown for a bare folder
  std::string location;
  std::optional<FileFormat> format;
  bool s3 = false;
  std::string bucket, key;  // s3 only

  // iceberg: catalog and "namespace.table"; kafka: topic
  std::string catalog, topic;

  const char* kind_name() const;
};

// Throws ConfigError naming what is wrong (and, for a URL, where).
Endpoint parse_endpoint(const std::string& text, const Config& config);

// The text with the password of any URL in it replaced by ***.
std::string mask_url(const std::string& text);

// "%40" -> "@"; throws ConfigError on a malformed escape, naming `what`.
std::string percent_decode(const std::string& text, const std::string& what);

}  // namespace datalab::transfer
