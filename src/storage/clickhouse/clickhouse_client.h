#pragma once
// A ClickHouse client over the HTTP interface (libcurl, one kept-alive connection):
// statements, SELECTs read as JSONCompact, inserts of Arrow batches in Native format
// (optionally gzip-compressed), and per-query statistics from the response and from
// system.query_log. Server errors become ClickHouseError with the server's code;
// credentials travel in X-ClickHouse-User/-Key headers, so no URL ever holds the password.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <arrow/api.h>

#include "core/error.h"
#include "core/result_table.h"
#include "storage/clickhouse/clickhouse_settings.h"
#include "storage/clickhouse/clickhouse_sql.h"

namespace datalab::clickhouse {

// The server answered with an error (exit code 3, like every service failure).
class ClickHouseError : public ServiceError {
 public:
  ClickHouseError(const std::string& message, int code) : ServiceError(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

enum class BodyCompression { None, Gzip };

struct QueryOptions {
  std::string query_id;                                      // empty: the server picks one
  std::vector<std::pair<std::string, std::string>> settings;  // sent as URL parameters
};

// What the server reports about one finished query.
struct QueryStatistics {
  std::string query_id;
  double elapsed_seconds = 0;
  uint64_t memory_bytes = 0;
  uint64_t read_rows = 0, read_bytes = 0;
  uint64_t result_rows = 0, result_bytes = 0;
  uint64_t written_rows = 0;
};

struct QueryResult {
  std::vector<std::string> columns, types;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::string query_id;
  double client_seconds = 0;      // round trip measured here
  // From the response: JSON "statistics" (elapsed, rows/bytes read) and, on servers that
  // send it, the X-ClickHouse-Summary header. Memory and result size come from query_log.
  std::optional<QueryStatistics> response_statistics;

  ResultTable to_table() const;
};

// A query's result read as the server sends it (e.g. in Native format), so a big result
// never sits whole in memory: a thread runs the HTTP request on its own connection and hands
// over chunks, holding at most a few MiB when the reader falls behind.
class ResultStream {
 public:
  ~ResultStream();  // an unfinished transfer is cut off
  // Up to `size` bytes of the body; 0 at its end. Throws ClickHouseError when the server
  // refused the query, ServiceError when the connection failed.
  std::size_t read(char* out, std::size_t size);
  uint64_t bytes_read() const { return bytes_read_; }

  struct State;
  explicit ResultStream(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
  uint64_t bytes_read_ = 0;
};

class ClickHouseClient {
 public:
  explicit ClickHouseClient(ClickHouseSettings settings);
  ~ClickHouseClient();
  ClickHouseClient(const ClickHouseClient&) = delete;
  ClickHouseClient& operator=(const ClickHouseClient&) = delete;

  // A statement without a result set (DDL, INSERT ... SELECT, SYSTEM ...).
  void execute(std::string_view sql, const QueryOptions& options = {});
  // A query whose result is read whole (FORMAT JSONCompact is added here).
  QueryResult select(std::string_view sql, const QueryOptions& options = {});
  // A query whose result streams in `format` ("FORMAT format" is added here).
  std::unique_ptr<ResultStream> select_stream(std::string_view sql, std::string_view format,
                                              const QueryOptions& options = {});
  // The first value of the first row.
  std::string scalar(std::string_view sql);
  // Sends `body` (data in `format`) as INSERT INTO table [(columns)] FORMAT format; columns
  // left out get their defaults.
  void insert_raw(std::string_view table, std::string_view format, std::string_view body,
                  BodyCompression compression = BodyCompression::None, const std::vector<std::string>& columns = {});
  // Encodes the batch as a Native block and inserts it.
  void insert(std::string_view table, const arrow::RecordBatch& batch,
              BodyCompression compression = BodyCompression::None);

  std::string server_version();
  // Flushes system.query_log and returns the finished queries with these ids (in the order
  // asked; ids the log does not have after `wait_seconds` are missing from the result).
  std::vector<QueryStatistics> query_log(const std::vector<std::string>& query_ids, double wait_seconds = 10);

  const ClickHouseSettings& settings() const { return settings_; }
  // Bytes of request bodies sent so far (after compression).
  uint64_t bytes_sent() const { return bytes_sent_; }

 private:
  struct Response {
    long status = 0;
    std::string body;
    std::string summary_header;
  };
  Response post(const std::string& url_parameters, std::string_view body, bool gzip_body,
                std::string_view what);
  std::string url_parameters(const QueryOptions& options) const;

  ClickHouseSettings settings_;
  struct Curl;
  std::unique_ptr<Curl> curl_;
  uint64_t bytes_sent_ = 0;
};

// A fresh id for query_log lookups: "datalab-<label>-<random hex>".
std::string new_query_id(std::string_view label);
// gzip (RFC 1952) of `data` at zlib level 1..9.
std::string gzip_compress(std::string_view data, int level);

}  // namespace datalab::clickhouse
