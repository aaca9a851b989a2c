#include "server/delivery_api.h"

#include <atomic>
#include <csignal>
#include <pthread.h>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "modules/airflow_pipeline/delivery_pipeline.h"
#include "server/telegram_client.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab {

namespace {

using airflow_pipeline::DeliveryPipeline;
using nlohmann::json;

void reply(httplib::Response& response, int status, const json& body) {
  response.status = status;
  response.set_content(body.dump() + "\n", "application/json");
}

// Runs a handler; any exception becomes a 500 with the error's message (secrets are never
// part of datalab's error messages).
template <typename Fn>
void guarded(httplib::Response& response, const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    spdlog::error("{} failed: {}", what, e.what());
    reply(response, 500, {{"status", "error"}, {"error", e.what()}});
  }
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::optional<std::string> parse_notification(const std::string& body, NotificationRequest& out) {
  json parsed;
  try {
    parsed = json::parse(body);
  } catch (const json::parse_error& e) {
    return fmt::format("body is not valid JSON: {}", e.what());
  }
  if (!parsed.is_object()) return "body must be a JSON object";
  const auto text_field = [&](const char* name, std::string& target) -> std::optional<std::string> {
    if (!parsed.contains(name)) return fmt::format("missing field '{}'", name);
    const auto& value = parsed[name];
    if (!value.is_string()) return fmt::format("field '{}' must be a string", name);
    target = value.get<std::string>();
    if (target.empty()) return fmt::format("field '{}' must not be empty", name);
    if (target.size() > 1000) return fmt::format("field '{}' is longer than 1000 characters", name);
    return std::nullopt;
  };
  for (auto [name, target] : {std::pair{"dag_id", &out.dag_id}, std::pair{"dag_execution_time", &out.dag_execution_time},
                              std::pair{"result", &out.result}}) {
    if (auto reason = text_field(name, *target)) return reason;
  }
  if (!parsed.contains("details")) return "missing field 'details'";
  const auto& details = parsed["details"];
  if (details.is_string()) {
    out.details = details.get<std::string>();
  } else if (details.is_object() || details.is_array()) {
    out.details = details.dump();
  } else {
    return "field 'details' must be a string or a JSON object";
  }
  if (out.details.size() > 3000) return "field 'details' is longer than 3000 characters";
  return std::nullopt;
}

std::string format_notification(const NotificationRequest& request) {
  return fmt::format("DAG {}: {}\nexecution time: {}\ndetails: {}", request.dag_id, request.result,
                     request.dag_execution_time, request.details);
}

int serve(const Config& config, const ServeOptions& options) {
  // SIGINT/SIGTERM are taken by a waiting thread (not a handler) so the stop is clean: block
  // them before any thread starts, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto pipeline = std::make_shared<DeliveryPipeline>(DeliveryPipeline::from(config));
  const TelegramClient telegram(TelegramSettings::from(config));
  const std::string api_token = config.get_or("DATALAB_API_TOKEN", "");

  spdlog::info("serve: PostgreSQL {}, object store {}, bucket {}", pipeline->postgres().describe(),
               pipeline->store().settings().describe(), pipeline->store().bucket());
  pipeline->setup();
  if (options.seed) {
    auto seeded = pipeline->seed_files();
    spdlog::info("serve: delivery files written: [{}], skipped (already there or processed): [{}]",
                 fmt::join(seeded.written, ", "), fmt::join(seeded.skipped, ", "));
  }

  httplib::Server server;
  server.set_pre_routing_handler([&](const httplib::Request& request, httplib::Response& response) {
    if (api_token.empty() || request.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    const std::string header = request.get_header_value("Authorization");
    if (header.rfind("Bearer ", 0) == 0 && constant_time_equal(header.substr(7), api_token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    reply(response, 401, {{"status", "unauthorized"}, {"error", "a valid bearer token is required"}});
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_logger([](const httplib::Request& request, const httplib::Response& response) {
    spdlog::info("{} {} -> {}", request.method, request.path, response.status);
  });

  server.Get("/health", [&](const httplib::Request&, httplib::Response& response) {
    try {
      PgConnection db(pipeline->postgres());
      db.exec("SELECT 1");
      pipeline->store().require_bucket();
      reply(response, 200, {{"status", "ok"}, {"bucket", pipeline->store().bucket()}});
    } catch (const std::exception& e) {
      reply(response, 503, {{"status", "unavailable"}, {"error", e.what()}});
    }
  });

  server.Post("/upload", [&](const httplib::Request&, httplib::Response& response) {
    guarded(response, "upload", [&] {
      const auto result = pipeline->upload();
      if (!result.loaded) {
        reply(response, 409, {{"status", "nothing_to_upload"},
                              {"details", fmt::format("no delivery file at the root of bucket {}",
                                                      pipeline->store().bucket())}});
        return;
      }
      reply(response, 201, {{"status", "loaded"},
                             {"file", result.source_file},
                             {"processed_key", result.processed_key},
                             {"rows", result.file_rows},
                             {"rows_inserted", result.rows_inserted},
                             {"seconds", result.seconds}});
    });
  });

  server.Get("/validate-last-upload", [&](const httplib::Request&, httplib::Response& response) {
    guarded(response, "validate-last-upload", [&] {
      const auto result = pipeline->validate_last_upload();
      if (!result.found) {
        reply(response, 409, {{"status", "nothing_to_validate"}, {"details", "no processed file yet"}});
        return;
      }
      json body = {{"status", result.valid ? "valid" : "invalid"},
                   {"file", result.processed_key},
                   {"source_file", result.source_file},
                   {"expected_rows", result.expected_rows},
                   {"actual_rows", result.actual_rows},
                   {"check_id", result.check_id},
                   {"checked_at", result.checked_at}};
      body["details"] = fmt::format("{}: {} rows in the file, {} rows loaded", result.processed_key,
                                    result.expected_rows, result.actual_rows);
      reply(response, result.valid ? 200 : 422, body);
    });
  });

  server.Post("/notification", [&](const httplib::Request& request, httplib::Response& response) {
    guarded(response, "notification", [&] {
      NotificationRequest notification;
      if (auto reason = parse_notification(request.body, notification)) {
        reply(response, 400, {{"status", "bad_request"}, {"error", *reason}});
        return;
      }
      const auto sent = telegram.send_message(format_notification(notification));
      if (sent.ok) {
        reply(response, 200, {{"status", "sent"}, {"attempts", sent.attempts}});
      } else if (sent.attempts == 0) {
        reply(response, 503, {{"status", "not_configured"}, {"error", sent.error}});
      } else {
        reply(response, 502, {{"status", "send_failed"}, {"attempts", sent.attempts}, {"error", sent.error}});
      }
    });
  });

  if (!server.bind_to_port(options.host.c_str(), options.port)) {
    throw ServiceError(fmt::format("cannot listen on {}:{} (already in use?)", options.host, options.port));
  }
  std::atomic<bool> signalled{false};
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    if (!signalled.exchange(true)) spdlog::info("serve: signal {} received, stopping", signal);
    server.stop();
  });
  spdlog::info("serve: listening on http://{}:{}{}", options.host, options.port,
               api_token.empty() ? "" : " (bearer token required)");
  server.listen_after_bind();
  const bool by_signal = signalled.exchange(true);
  if (!by_signal) pthread_kill(stopper.native_handle(), SIGTERM);  // wake the waiting thread
  stopper.join();
  spdlog::info("serve: stopped");
  return by_signal ? 0 : 1;
}

void add_serve_command(CLI::App& app, AppContext& context) {
  auto options = std::make_shared<ServeOptions>();
  auto* command = app.add_subcommand("serve", "run the delivery pipeline's HTTP API (week 9, airflow_pipeline)");
  command->add_option("--host", options->host, "address to listen on")->capture_default_str();
  command->add_option("--port", options->port, "port to listen on")->capture_default_str();
  command->add_flag("!--no-seed", options->seed, "do not write the five delivery files on start");
  command->callback([&context, options] {
    const int code = serve(context.config, *options);
    if (code != 0) throw Error("the delivery service stopped with an error", code);
  });
}

}  // namespace datalab
