#include "storage/clickhouse/clickhouse_client.h"

#include <curl/curl.h>
#include <zlib.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/config.h"
#include "core/stopwatch.h"
#include "storage/clickhouse/native_block_encoder.h"

namespace datalab {

ClickHouseSettings ClickHouseSettings::from(const Config& config) {
  return {config.value("CLICKHOUSE_DB_HOST"), config.value("CLICKHOUSE_DB_PORT"), config.value("CLICKHOUSE_DB"),
          config.value("CLICKHOUSE_USER"), config.value("CLICKHOUSE_PASSWORD")};
}

std::string ClickHouseSettings::describe() const { return fmt::format("{}@{}:{}/{}", user, host, port, database); }

std::string ClickHouseSettings::base_url() const {
  // An IPv6 literal needs brackets in a URL.
  const bool ipv6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}/", ipv6 ? "[" : "", host, ipv6 ? "]" : "", port);
}

namespace clickhouse {

namespace {

// Error codes for a refused login: 192 UNKNOWN_USER, 193 WRONG_PASSWORD (18.x),
// 516 AUTHENTICATION_FAILED (20+).
bool is_login_error(int code) { return code == 192 || code == 193 || code == 516; }

std::string statement_summary(std::string_view sql) {
  std::string text;
  for (const char c : sql) {
    if (c == '\n' || c == '\t' || c == '\r') {
      if (!text.empty() && text.back() != ' ') text += ' ';
    } else {
      text += c;
    }
    if (text.size() > 100) return text.substr(0, 97) + "...";
  }
  return text;
}

std::optional<std::string> json_text(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

uint64_t json_count(const nlohmann::json& object, const char* key) {
  if (!object.contains(key)) return 0;
  const auto& value = object[key];
  if (value.is_string()) return std::stoull(value.get<std::string>());
  if (value.is_number()) return value.get<uint64_t>();
  return 0;
}

std::string trim_statement(std::string_view sql) {
  std::size_t end = sql.size();
  while (end > 0 && (std::isspace(static_cast<unsigned char>(sql[end - 1])) || sql[end - 1] == ';')) --end;
  return std::string(sql.substr(0, end));
}

size_t append_body(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

size_t capture_summary(char* data, size_t size, size_t count, void* target) {
  const std::string_view line(data, size * count);
  constexpr std::string_view name = "x-clickhouse-summary:";
  if (line.size() > name.size()) {
    std::string head(line.substr(0, name.size()));
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == name) {
      std::string value(line.substr(name.size()));
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
      *static_cast<std::string*>(target) = value;
    }
  }
  return size * count;
}

}  // namespace

struct ClickHouseClient::Curl {
  CURL* handle = nullptr;
  ~Curl() {
    if (handle) curl_easy_cleanup(handle);
  }
};

ClickHouseClient::ClickHouseClient(ClickHouseSettings settings)
    : settings_(std::move(settings)), curl_(std::make_unique<Curl>()) {
  static std::once_flag global_init;  // curl_global_init is not thread-safe on every build
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_->handle = curl_easy_init();
  if (!curl_->handle) throw Error("libcurl could not create a handle");
}

ClickHouseClient::~ClickHouseClient() = default;

std::string ClickHouseClient::url_parameters(const QueryOptions& options) const {
  auto escape = [this](const std::string& value) {
    char* escaped = curl_easy_escape(curl_->handle, value.data(), static_cast<int>(value.size()));
    std::string out = escaped ? escaped : "";
    curl_free(escaped);
    return out;
  };
  std::string params = "database=" + escape(settings_.database);
  if (!options.query_id.empty()) params += "&query_id=" + escape(options.query_id);
  for (const auto& [name, value] : options.settings) params += "&" + escape(name) + "=" + escape(value);
  return params;
}

ClickHouseClient::Response ClickHouseClient::post(const std::string& url_parameters, std::string_view body,
                                                  bool gzip_body, std::string_view what) {
  CURL* h = curl_->handle;
  Response response;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  const std::string url = settings_.base_url() + "?" + url_parameters;
  const std::string user_header = "X-ClickHouse-User: " + settings_.user;
  const std::string key_header = "X-ClickHouse-Key: " + settings_.password;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, user_header.c_str());
  headers = curl_slist_append(headers, key_header.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip before big bodies
  headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  if (gzip_body) headers = curl_slist_append(headers, "Content-Encoding: gzip");
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers, &curl_slist_free_all);

  curl_easy_reset(h);  // keeps the connection cache, clears options of the previous request
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &capture_summary);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.summary_header);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // safe with several clients on several threads
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    const std::string reason = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
    throw ServiceError(fmt::format("cannot reach ClickHouse at {} ({}): {}", settings_.describe(),
                                   settings_.base_url(), reason));
  }
  bytes_sent_ += body.size();
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  if (response.status != 200) {
    ServerError error = parse_server_error(response.body);
    if (error.message.empty()) error.message = fmt::format("HTTP status {}", response.status);
    // The server never echoes the key, but a message must not carry it even if one did.
    if (settings_.password.size() >= 3) error.message = mask_secrets(error.message, {settings_.password});
    if (is_login_error(error.code)) {
      throw ClickHouseError(fmt::format("ClickHouse at {} refused the login: {} (code {})", settings_.describe(),
                                        error.message, error.code),
                            error.code);
    }
    throw ClickHouseError(fmt::format("ClickHouse error {}: {} [{}]", error.code, error.message, what), error.code);
  }
  return response;
}

void ClickHouseClient::execute(std::string_view sql, const QueryOptions& options) {
  spdlog::debug("clickhouse: {}", statement_summary(sql));
  post(url_parameters(options), sql, false, statement_summary(sql));
}

QueryResult ClickHouseClient::select(std::string_view sql, const QueryOptions& options) {
  QueryOptions with_wait = options;
  // The whole result is buffered server-side, so an error mid-query is an HTTP error and
  // not a truncated 200 response.
  with_wait.settings.emplace_back("wait_end_of_query", "1");
  const std::string statement = trim_statement(sql) + "\nFORMAT JSONCompact";
  spdlog::debug("clickhouse: {}", statement_summary(sql));
  const auto start = std::chrono::steady_clock::now();
  const Response response = post(url_parameters(with_wait), statement, false, statement_summary(sql));
  QueryResult result;
  result.client_seconds = seconds_since(start);
  result.query_id = options.query_id;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(response.body);
  } catch (const nlohmann::json::exception& e) {
    throw ServiceError(fmt::format("ClickHouse sent a result that is not JSON ({}) [{}]", e.what(),
                                   statement_summary(sql)));
  }
  for (const auto& column : doc.value("meta", nlohmann::json::array())) {
    result.columns.push_back(column.value("name", ""));
    result.types.push_back(column.value("type", ""));
  }
  for (const auto& row : doc.value("data", nlohmann::json::array())) {
    std::vector<std::optional<std::string>> values;
    for (const auto& value : row) values.push_back(json_text(value));
    result.rows.push_back(std::move(values));
  }
  if (doc.contains("statistics") || !response.summary_header.empty()) {
    QueryStatistics stats;
    stats.query_id = options.query_id;
    if (doc.contains("statistics")) {
      const auto& s = doc["statistics"];
      stats.elapsed_seconds = s.value("elapsed", 0.0);
      stats.read_rows = json_count(s, "rows_read");
      stats.read_bytes = json_count(s, "bytes_read");
    }
    if (!response.summary_header.empty()) {  // 19.x+ (newer ones also add result_rows/bytes)
      try {
        const auto summary = nlohmann::json::parse(response.summary_header);
        stats.read_rows = std::max(stats.read_rows, json_count(summary, "read_rows"));
        stats.read_bytes = std::max(stats.read_bytes, json_count(summary, "read_bytes"));
        stats.result_rows = json_count(summary, "result_rows");
        stats.result_bytes = json_count(summary, "result_bytes");
      } catch (const nlohmann::json::exception&) {
        // A malformed optional header only loses the extra numbers.
      }
    }
    result.response_statistics = stats;
  }
  return result;
}

struct ResultStream::State {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> chunks;
  std::size_t queued = 0, front_offset = 0;
  bool done = false, cancelled = false;
  std::exception_ptr error;
  std::string error_body;  // the body of a refused query (a status other than 200)
  long status = 0;
  std::thread thread;
  static constexpr std::size_t kMaxQueued = 8u << 20;
};

ResultStream::ResultStream(std::unique_ptr<State> state) : state_(std::move(state)) {}

ResultStream::~ResultStream() {
  {
    std::lock_guard lock(state_->mutex);
    state_->cancelled = true;
  }
  state_->changed.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
}

std::size_t ResultStream::read(char* out, std::size_t size) {
  std::unique_lock lock(state_->mutex);
  state_->changed.wait(lock, [&] { return !state_->chunks.empty() || state_->done; });
  if (state_->chunks.empty()) {
    if (state_->error) std::rethrow_exception(state_->error);
    return 0;
  }
  std::size_t copied = 0;
  while (copied < size && !state_->chunks.empty()) {
    const std::string& front = state_->chunks.front();
    const std::size_t n = std::min(size - copied, front.size() - state_->front_offset);
    std::memcpy(out + copied, front.data() + state_->front_offset, n);
    copied += n;
    state_->front_offset += n;
    if (state_->front_offset == front.size()) {
      state_->queued -= front.size();
      state_->chunks.pop_front();
      state_->front_offset = 0;
    }
  }
  lock.unlock();
  state_->changed.notify_all();
  bytes_read_ += copied;
  return copied;
}

namespace {

size_t stream_body(char* data, size_t size, size_t count, void* target) {
  auto* state = static_cast<ResultStream::State*>(target);
  const std::size_t n = size * count;
  std::unique_lock lock(state->mutex);
  if (state->status != 200) {
    if (state->error_body.size() < 65536) state->error_body.append(data, n);
    return n;
  }
  // Waits while the reader is behind: the server then waits too, so memory stays bounded.
  state->changed.wait(lock, [&] { return state->queued < ResultStream::State::kMaxQueued || state->cancelled; });
  if (state->cancelled) return 0;  // aborts the transfer
  state->chunks.emplace_back(data, n);
  state->queued += n;
  lock.unlock();
  state->changed.notify_all();
  return n;
}

size_t stream_header(char* data, size_t size, size_t count, void* target) {
  auto* state = static_cast<ResultStream::State*>(target);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {  // the status line: "HTTP/1.1 200 OK"
    const auto space = line.find(' ');
    if (space != std::string_view::npos) {
      std::lock_guard lock(state->mutex);
      state->status = std::atol(std::string(line.substr(space + 1, 3)).c_str());
    }
  }
  return size * count;
}

// Called by libcurl while the transfer runs, also while the server sends nothing yet (a slow
// query): a reader that stopped early ends the transfer at once.
int stream_progress(void* target, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* state = static_cast<ResultStream::State*>(target);
  std::lock_guard lock(state->mutex);
  return state->cancelled ? 1 : 0;
}

}  // namespace

std::unique_ptr<ResultStream> ClickHouseClient::select_stream(std::string_view sql, std::string_view format,
                                                              const QueryOptions& options) {
  auto state = std::make_unique<ResultStream::State>();
  auto* s = state.get();
  const std::string statement = trim_statement(sql) + "\nFORMAT " + std::string(format);
  const std::string url = settings_.base_url() + "?" + url_parameters(options);
  const std::string what = statement_summary(sql);
  spdlog::debug("clickhouse (streamed): {}", what);
  const ClickHouseSettings settings = settings_;
  s->thread = std::thread([s, statement, url, what, settings] {
    try {
      CURL* h = curl_easy_init();
      if (!h) throw Error("libcurl could not create a handle");
      std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> handle_guard(h, &curl_easy_cleanup);
      const std::string user_header = "X-ClickHouse-User: " + settings.user;
      const std::string key_header = "X-ClickHouse-Key: " + settings.password;
      curl_slist* headers = nullptr;
      headers = curl_slist_append(headers, user_header.c_str());
      headers = curl_slist_append(headers, key_header.c_str());
      headers = curl_slist_append(headers, "Expect:");
      std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers, &curl_slist_free_all);
      char error_buffer[CURL_ERROR_SIZE] = {0};
      curl_easy_setopt(h, CURLOPT_URL, url.c_str());
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, statement.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(statement.size()));
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &stream_body);
      curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
      curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &stream_header);
      curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
      curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
      curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
      curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &stream_progress);
      curl_easy_setopt(h, CURLOPT_XFERINFODATA, s);
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      const CURLcode rc = curl_easy_perform(h);
      std::unique_lock lock(s->mutex);
      if (s->cancelled) {
        // The reader stopped early: nothing to report.
      } else if (rc != CURLE_OK) {
        const std::string reason = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
        throw ServiceError(fmt::format("cannot read from ClickHouse at {} ({}): {}", settings.describe(),
                                       settings.base_url(), reason));
      } else if (s->status != 200) {
        ServerError error = parse_server_error(s->error_body);
        if (error.message.empty()) error.message = fmt::format("HTTP status {}", s->status);
        if (settings.password.size() >= 3) error.message = mask_secrets(error.message, {settings.password});
        if (is_login_error(error.code)) {
          throw ClickHouseError(fmt::format("ClickHouse at {} refused the login: {} (code {})", settings.describe(),
                                            error.message, error.code),
                                error.code);
        }
        throw ClickHouseError(fmt::format("ClickHouse error {}: {} [{}]", error.code, error.message, what), error.code);
      }
    } catch (...) {
      std::lock_guard lock(s->mutex);
      s->error = std::current_exception();
    }
    {
      std::lock_guard lock(s->mutex);
      s->done = true;
    }
    s->changed.notify_all();
  });
  return std::make_unique<ResultStream>(std::move(state));
}

std::string ClickHouseClient::scalar(std::string_view sql) {
  const auto result = select(sql);
  if (result.rows.empty() || result.rows.front().empty() || !result.rows.front().front()) {
    throw ServiceError(fmt::format("ClickHouse returned no value [{}]", statement_summary(sql)));
  }
  return *result.rows.front().front();
}

void ClickHouseClient::insert_raw(std::string_view table, std::string_view format, std::string_view body,
                                  BodyCompression compression, const std::vector<std::string>& columns) {
  std::string column_list;
  for (const auto& column : columns) column_list += (column_list.empty() ? " (" : ", ") + quote_identifier(column);
  if (!column_list.empty()) column_list += ")";
  QueryOptions options;
  options.settings.emplace_back("query",
                                fmt::format("INSERT INTO {}{} FORMAT {}", quote_identifier(table), column_list, format));
  post(url_parameters(options), body, compression == BodyCompression::Gzip,
       fmt::format("INSERT INTO {} FORMAT {}", table, format));
}

void ClickHouseClient::insert(std::string_view table, const arrow::RecordBatch& batch, BodyCompression compression) {
  std::string body;
  NativeBlockEncoder(batch.schema()).encode(batch, body);
  if (compression == BodyCompression::Gzip) body = gzip_compress(body, 1);
  insert_raw(table, "Native", body, compression);
}

std::string ClickHouseClient::server_version() { return scalar("SELECT version()"); }

std::vector<QueryStatistics> ClickHouseClient::query_log(const std::vector<std::string>& query_ids,
                                                         double wait_seconds) {
  if (query_ids.empty()) return {};
  std::string id_list;
  for (const auto& id : query_ids) id_list += (id_list.empty() ? "" : ", ") + quote_string(id);
  // type 2 = QueryFinish (a number on 18.x, an Enum8 with that value on newer servers).
  const std::string sql = fmt::format(
      "SELECT query_id, query_duration_ms, memory_usage, read_rows, read_bytes, result_rows, result_bytes, "
      "written_rows FROM system.query_log WHERE type = 2 AND query_id IN ({}) AND event_date >= yesterday()",
      id_list);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
  std::map<std::string, QueryStatistics> found;
  for (;;) {
    execute("SYSTEM FLUSH LOGS");
    for (const auto& row : select(sql).rows) {
      QueryStatistics s;
      s.query_id = row[0].value_or("");
      s.elapsed_seconds = std::stod(row[1].value_or("0")) / 1000.0;
      s.memory_bytes = std::stoull(row[2].value_or("0"));
      s.read_rows = std::stoull(row[3].value_or("0"));
      s.read_bytes = std::stoull(row[4].value_or("0"));
      s.result_rows = std::stoull(row[5].value_or("0"));
      s.result_bytes = std::stoull(row[6].value_or("0"));
      s.written_rows = std::stoull(row[7].value_or("0"));
      found[s.query_id] = s;
    }
    if (found.size() >= query_ids.size() || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the log is written asynchronously
  }
  std::vector<QueryStatistics> ordered;
  for (const auto& id : query_ids) {
    if (const auto it = found.find(id); it != found.end()) ordered.push_back(it->second);
  }
  return ordered;
}

ResultTable QueryResult::to_table() const {
  ResultTable table;
  table.columns = columns;
  for (const auto& type : types) {
    const bool number = type.find("Int") != std::string::npos || type.find("Float") != std::string::npos ||
                        type.find("Decimal") != std::string::npos;
    table.kinds.push_back(number ? ValueKind::Number : ValueKind::Text);
  }
  table.rows = rows;
  return table;
}

std::string new_query_id(std::string_view label) {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t process_salt = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32);
  return fmt::format("datalab-{}-{:016x}-{}", label, process_salt, counter.fetch_add(1));
}

std::string gzip_compress(std::string_view data, int level) {
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16 /* gzip wrapper */, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw Error("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw Error("zlib: deflate failed");
  out.resize(stream.total_out);
  return out;
}

}  // namespace clickhouse
}  // namespace datalab
