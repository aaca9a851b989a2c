#pragma once
// The delivery pipeline's HTTP API (week 9), served by `datalab serve`:
//   POST /upload                201 loaded | 409 nothing to load | 500 failure
//   GET  /validate-last-upload  200 valid | 422 invalid | 409 no processed file | 500 error
//   POST /notification          200 sent | 400 malformed body | 502 Telegram failed | 503 not configured
//   GET  /health                200 when PostgreSQL and the object store answer, else 503
// Every body is JSON with a "status" word and details. With DATALAB_API_TOKEN set, every
// endpoint but /health requires "Authorization: Bearer <token>" (401 otherwise).
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "modules/module.h"

namespace datalab {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 10459;
  bool seed = true;  // write the five delivery files on start
};

// A validated notification request, or the reason it was rejected.
struct NotificationRequest {
  std::string dag_id, dag_execution_time, result, details;
};
// Returns the reason when the body is not a valid notification, else fills `out`.
std::optional<std::string> parse_notification(const std::string& body, NotificationRequest& out);
// The message text sent to the chat.
std::string format_notification(const NotificationRequest& request);

// Starts the service and blocks until SIGINT/SIGTERM; returns the exit code.
int serve(const Config& config, const ServeOptions& options);

// Registers `datalab serve`.
void add_serve_command(CLI::App& app, AppContext& context);

}  // namespace datalab
