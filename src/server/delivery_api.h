#pragma once
// The delivery pipeline's HTTP API (week 9), served by `datalab serve`:
//   POST /upload                201 loaded | 409 nothing to load | 422 file rejected (moved to
//                               rejected/ with the reason) | 500 failure; takes no body
//   GET  /validate-last-upload  200 valid | 422 invalid | 409 no processed file | 500 error
//   POST /notification          200 sent | 400 malformed body | 502 Telegram failed | 503 not configured
//   GET  /health                200 when PostgreSQL and the object store answer, else 503
// Every body is JSON with a "status" word and details. With DATALAB_API_TOKEN set, every
// endpoint but /health requires "Authorization: Bearer <token>" (401 otherwise). A known path
// with another method answers 405 with Allow; an unknown path 404.
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "modules/module.h"

namespace datalab {

// How the service protects itself from slow or too many clients.
struct ServeLimits {
  int worker_threads = 64;                       // connections served at once
  int max_connections = 256;                     // open connections (served + waiting); more get 503
  std::chrono::seconds header_timeout{5};        // request line and headers, from the first byte
  std::chrono::seconds body_timeout{10};         // the body, once the headers are in
  std::chrono::seconds write_timeout{10};        // the whole response
  std::chrono::seconds keep_alive_timeout{5};    // idle time between two requests of a connection
  int keep_alive_max_requests = 100;             // requests per connection
  std::size_t max_body_bytes = 64 * 1024;        // larger bodies get 413
};

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 10459;  // 1-65535
  bool seed = true;  // write the five delivery files on start
  ServeLimits limits;
};

// A validated notification request, or the reason it was rejected.
struct NotificationRequest {
  std::string dag_id, dag_execution_time, result, details;
};
// Returns the reason when the body is not a valid notification, else fills `out`. The body
// must be UTF-8 JSON; `result` is "success" or "failure" (what the DAG sends);
// `dag_execution_time` an ISO 8601 date and time ("2025-01-01T00:00:00+00:00", also with a
// space, fractions of a second, "Z" or no zone: what Airflow renders).
std::optional<std::string> parse_notification(const std::string& body, NotificationRequest& out);
// The message text sent to the chat.
std::string format_notification(const NotificationRequest& request);

// True when `text` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(const std::string& text);
// True for an ISO 8601 date and time as described at parse_notification.
bool is_iso8601_datetime(const std::string& text);
// True when an Authorization header value carries `token` as a bearer token (the scheme is
// case-insensitive, RFC 7235); the token compares in constant time.
bool bearer_token_matches(const std::string& header, const std::string& token);

// Starts the service and blocks until SIGINT/SIGTERM. A port outside 1-65535 is a
// ConfigError (exit 2), a port in use a ServiceError (exit 3, "already in use"), the server
// stopping by itself an Error (exit 1).
void serve(const Config& config, const ServeOptions& options);

// Registers `datalab serve`.
void add_serve_command(CLI::App& app, AppContext& context);

}  // namespace datalab
