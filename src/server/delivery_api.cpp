#include "server/delivery_api.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "core/dates.h"
#include "core/error.h"
#include "core/utf8.h"
#include "modules/airflow_pipeline/delivery_pipeline.h"
#include "server/telegram_client.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab {

namespace {

using airflow_pipeline::DeliveryPipeline;
using nlohmann::json;

void reply(httplib::Response& response, int status, const json& body) {
  response.status = status;
  // Invalid UTF-8 (e.g. echoed from a request) is replaced, never an exception.
  response.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", "application/json");
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


// ---- connection handling -------------------------------------------------------------------
// cpp-httplib's own loop waits for each read with a per-read timeout only, so a client that
// sends one byte a second holds a worker forever, and its pool is a handful of threads: ten
// such clients stalled the service. GuardedServer replaces the per-connection loop with one
// that has deadlines for a request's headers, its body and the response, runs on a pool of
// its own and caps the number of open connections (the ones over the cap get a 503 at once).

using Clock = std::chrono::steady_clock;

// The stream of the connection being served on this thread (for the switch from the header
// deadline to the body deadline once the headers are in), and whether the accept thread is
// turning a connection away.
thread_local class DeadlineStream* t_stream = nullptr;
thread_local bool t_over_capacity = false;

class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(socket_t sock, const ServeLimits& limits) : sock_(sock), limits_(limits) {}

  // A new request starts: its headers must be in before the header deadline.
  void start_request() {
    read_deadline_ = Clock::now() + limits_.header_timeout;
    write_deadline_.reset();
  }
  // The headers are in: the body gets its own deadline.
  void start_body() { read_deadline_ = Clock::now() + limits_.body_timeout; }
  // Waits up to `wait` for the first byte of the next request (false: none, or stopping).
  bool wait_for_request(std::chrono::milliseconds wait, const std::atomic<bool>& stopping) {
    if (buffered_ < filled_) return true;
    const auto until = Clock::now() + wait;
    while (!stopping) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) return false;
      const int ready = poll_for(POLLIN, std::min<std::chrono::milliseconds>(left, std::chrono::milliseconds(200)));
      if (ready != 0) return ready > 0;
    }
    return false;
  }

  bool is_readable() const override {
    return buffered_ < filled_ || wait_until(POLLIN, read_deadline_) > 0;
  }
  bool is_writable() const override { return wait_until(POLLOUT, current_write_deadline()) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (buffered_ == filled_) {
      if (wait_until(POLLIN, read_deadline_) <= 0) return -1;  // deadline passed, or an error
      const ssize_t n = ::recv(sock_, buffer_, sizeof buffer_, 0);
      if (n <= 0) return n;
      buffered_ = 0;
      filled_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, filled_ - buffered_);
    std::memcpy(ptr, buffer_ + buffered_, n);
    buffered_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!write_deadline_) write_deadline_ = Clock::now() + limits_.write_timeout;
    if (wait_until(POLLOUT, *write_deadline_) <= 0) return -1;
    return ::send(sock_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address(true, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address(false, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  Clock::time_point current_write_deadline() const {
    return write_deadline_ ? *write_deadline_ : Clock::now() + limits_.write_timeout;
  }
  // > 0 ready, 0 deadline passed, < 0 error or hang-up.
  int wait_until(short events, Clock::time_point deadline) const {
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return 0;
      const int ready = poll_for(events, left);
      if (ready != -2) return ready;  // -2: interrupted, wait again
    }
  }
  int poll_for(short events, std::chrono::milliseconds wait) const {
    pollfd fd{sock_, events, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(std::max<long long>(wait.count(), 1)));
    if (ready < 0) return errno == EINTR ? -2 : -1;
    if (ready == 0) return 0;
    // A peer that hung up still has its last bytes readable: let recv() say so.
    if ((fd.revents & events) != 0) return 1;
    return -1;
  }
  void address(bool remote, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t length = sizeof addr;
    auto* raw = reinterpret_cast<sockaddr*>(&addr);
    if ((remote ? ::getpeername(sock_, raw, &length) : ::getsockname(sock_, raw, &length)) != 0) return;
    char host[NI_MAXHOST] = {0}, service[NI_MAXSERV] = {0};
    if (::getnameinfo(raw, length, host, sizeof host, service, sizeof service, NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
      ip = host;
      port = std::atoi(service);
    }
  }

  socket_t sock_;
  const ServeLimits& limits_;
  Clock::time_point read_deadline_ = Clock::now();
  std::optional<Clock::time_point> write_deadline_;
  char buffer_[4096];
  size_t buffered_ = 0, filled_ = 0;
};

// Counts of the connections the service holds (shared by the pool and the server).
struct ConnectionStats {
  std::atomic<int> open{0};    // accepted and not yet closed (being served or waiting for a worker)
  std::atomic<int> active{0};  // being served by a worker
};

// A fixed pool of workers; a connection over the cap is answered 503 on the accept thread
// (a short non-blocking write) instead of waiting behind the others.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(const ServeLimits& limits, ConnectionStats& stats) : limits_(limits), stats_(stats) {
    for (int i = 0; i < limits_.worker_threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~BoundedPool() override {
    if (!workers_.empty()) shutdown();
  }

  void enqueue(std::function<void()> fn) override {
    if (stats_.open.load() >= limits_.max_connections) {
      t_over_capacity = true;
      fn();  // process_and_close_socket answers 503 and closes
      t_over_capacity = false;
      return;
    }
    ++stats_.open;
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(fn));
    }
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& worker : workers_) worker.join();
    workers_.clear();
  }

 private:
  void work() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping, and every accepted connection was served
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      ++stats_.active;
      job();
      --stats_.active;
      --stats_.open;
    }
  }

  const ServeLimits& limits_;
  ConnectionStats& stats_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

class GuardedServer final : public httplib::Server {
 public:
  explicit GuardedServer(const ServeLimits& limits) : limits_(limits) {
    new_task_queue = [this] { return new BoundedPool(limits_, stats_); };
    set_payload_max_length(limits_.max_body_bytes);
    set_keep_alive_max_count(limits_.keep_alive_max_requests);
    // Only SO_REUSEADDR (a restart may bind while old connections linger in TIME_WAIT), never
    // SO_REUSEPORT: with it a second service could listen on the same port and share it.
    set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
  }
  void begin_stop() { stopping_ = true; }

 private:
  bool process_and_close_socket(socket_t sock) override {
    if (t_over_capacity) {
      static const std::string busy = [] {
        const std::string body = R"({"status":"busy","error":"too many open connections, try again"})" "\n";
        return fmt::format("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                           "Content-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{}",
                           body.size(), body);
      }();
      (void)::send(sock, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
      return false;
    }
    DeadlineStream stream(sock, limits_);
    t_stream = &stream;
    bool ok = false;
    for (int served = 0; served < limits_.keep_alive_max_requests; ++served) {
      const auto wait = served == 0 ? limits_.header_timeout : limits_.keep_alive_timeout;
      if (!stream.wait_for_request(std::chrono::duration_cast<std::chrono::milliseconds>(wait), stopping_)) break;
      stream.start_request();
      // Keep the connection only while workers are to spare.
      const bool close = served + 1 == limits_.keep_alive_max_requests || stopping_ ||
                         stats_.open.load() * 2 > limits_.worker_threads;
      bool closed = false;
      ok = process_request(stream, close, closed, nullptr);
      if (!ok || closed || close) break;
    }
    t_stream = nullptr;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  const ServeLimits limits_;
  ConnectionStats stats_;
  std::atomic<bool> stopping_{false};
};

// 127.0.0.0/8, ::1 and localhost: addresses only this machine reaches.
bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// Why a listening socket on host:port cannot be had ("" when it can): the error httplib's
// bind_to_port does not tell. Probed with the same options the server sets.
std::string listen_problem(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return fmt::format("cannot resolve host '{}': {}", host, ::gai_strerror(rc));
  }
  std::string problem;
  const int sock = ::socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (sock < 0) {
    problem = fmt::format("cannot open a socket: {}", std::strerror(errno));
  } else {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(sock, found->ai_addr, found->ai_addrlen) != 0 || ::listen(sock, 1) != 0) {
      problem = errno == EADDRINUSE ? "the port is already in use (another service listens there)"
                                    : std::string(std::strerror(errno));
    }
    ::close(sock);
  }
  ::freeaddrinfo(found);
  return problem;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The methods each path answers (HEAD comes with GET in cpp-httplib).
const std::vector<std::pair<std::string, std::string>> kRoutes = {
    {"/health", "GET, HEAD"},
    {"/upload", "POST"},
    {"/validate-last-upload", "GET, HEAD"},
    {"/notification", "POST"},
};

const std::string* allowed_methods(const std::string& path) {
  for (const auto& [route, methods] : kRoutes) {
    if (route == path) return &methods;
  }
  return nullptr;
}

bool method_allowed(const std::string& methods, const std::string& method) {
  std::size_t start = 0;
  while (start < methods.size()) {
    auto end = methods.find(", ", start);
    if (end == std::string::npos) end = methods.size();
    if (methods.compare(start, end - start, method) == 0) return true;
    start = end + 2;
  }
  return false;
}

// Reads a body through a content reader, at most `max_bytes`. A request with neither
// Content-Length nor Transfer-Encoding has no body (RFC 9112 6.3): nothing is read, instead of
// reading until the client closes. On failure the response is set (413 too large, 400 cut
// short or too slow) and nullopt returned.
std::optional<std::string> read_body(const httplib::Request& request, httplib::Response& response,
                                     const httplib::ContentReader& content_reader, std::size_t max_bytes) {
  std::string body;
  if (!request.has_header("Content-Length") && !request.has_header("Transfer-Encoding")) return body;
  const auto too_large = [&] {
    response.set_header("Connection", "close");
    reply(response, 413, {{"status", "payload_too_large"},
                          {"error", fmt::format("the request body is larger than {} bytes", max_bytes)}});
    return std::nullopt;
  };
  if (request.has_header("Content-Length")) {
    const auto declared = request.get_header_value("Content-Length");
    if (declared.size() > 12 || std::stoull("0" + declared) > max_bytes) return too_large();
  }
  bool over = false;
  const bool ok = content_reader([&](const char* data, std::size_t length) {
    if (body.size() + length > max_bytes) {
      over = true;
      return false;
    }
    body.append(data, length);
    return true;
  });
  if (over) return too_large();
  if (!ok) {
    response.set_header("Connection", "close");
    reply(response, 400, {{"status", "bad_request"}, {"error", "the request body was cut short or sent too slowly"}});
    return std::nullopt;
  }
  return body;
}

}  // namespace

bool is_valid_utf8(const std::string& text) { return !first_invalid_utf8(text); }

bool is_iso8601_datetime(const std::string& text) {
  // YYYY-MM-DD(T| )hh:mm[:ss[.f+]][Z|(+|-)hh[:]mm]
  std::size_t i = 0;
  auto digits = [&](std::size_t count, int& value) {
    if (i + count > text.size()) return false;
    value = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const char c = text[i + k];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    i += count;
    return true;
  };
  auto literal = [&](char c) {
    if (i < text.size() && text[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  // The date part is core's strict calendar date (years 0001-9999, real days only).
  if (text.size() < 10 || !parse_iso_date(std::string_view(text).substr(0, 10))) return false;
  i = 10;
  int hour, minute, second = 0;
  if (!literal('T') && !literal(' ')) return false;
  if (!digits(2, hour) || !literal(':') || !digits(2, minute) || hour > 23 || minute > 59) return false;
  if (literal(':')) {
    if (!digits(2, second) || second > 60) return false;  // 60: a leap second
    if (literal('.')) {
      const std::size_t fraction = i;
      while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
      if (i == fraction || i - fraction > 9) return false;
    }
  }
  if (i == text.size() || literal('Z')) return i == text.size();
  if (!literal('+') && !literal('-')) return false;
  int zone_hours, zone_minutes;
  if (!digits(2, zone_hours)) return false;
  literal(':');
  if (!digits(2, zone_minutes) || zone_hours > 23 || zone_minutes > 59) return false;
  return i == text.size();
}

bool bearer_token_matches(const std::string& header, const std::string& token) {
  // credentials = auth-scheme 1*SP token68; the scheme is case-insensitive.
  static constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return false;
  }
  std::size_t start = kScheme.size();
  if (header[start] != ' ') return false;
  while (start < header.size() && header[start] == ' ') ++start;
  std::size_t end = header.size();
  while (end > start && (header[end - 1] == ' ' || header[end - 1] == '\t')) --end;
  return !token.empty() && constant_time_equal(header.substr(start, end - start), token);
}

std::optional<std::string> parse_notification(const std::string& body, NotificationRequest& out) {
  if (body.empty()) {
    return "the body is empty: send a JSON object {dag_id, dag_execution_time, result, details}";
  }
  if (!is_valid_utf8(body)) return "body is not valid UTF-8";
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
  // The values (the DAG sends "success" or "failure" and Airflow's logical date).
  if (out.result != "success" && out.result != "failure") {
    return fmt::format("field 'result' must be \"success\" or \"failure\", not {}", json(out.result).dump());
  }
  if (!is_iso8601_datetime(out.dag_execution_time)) {
    return fmt::format("field 'dag_execution_time' must be an ISO 8601 date and time such as "
                       "\"2025-01-01T00:00:00+00:00\", not {}",
                       json(out.dag_execution_time).dump());
  }
  return std::nullopt;
}

std::string format_notification(const NotificationRequest& request) {
  return fmt::format("DAG {}: {}\nexecution time: {}\ndetails: {}", request.dag_id, request.result,
                     request.dag_execution_time, request.details);
}

void serve(const Config& config, const ServeOptions& options) {
  if (options.port < 1 || options.port > 65535) {
    throw ConfigError(fmt::format("--port must be between 1 and 65535, not {}", options.port));
  }
  // SIGINT/SIGTERM are taken by a waiting thread (not a handler) so the stop is clean: block
  // them before any thread starts, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Beyond this machine only with a token: uploads and notifications would be open to anyone
  // who can reach the port.
  if (!is_loopback_host(options.host) && config.value("DATALAB_API_TOKEN").empty()) {
    throw ConfigError(fmt::format("--host {} would open the delivery service beyond this machine without a "
                                  "token: set DATALAB_API_TOKEN (every request but /health then needs it), or "
                                  "listen on 127.0.0.1",
                                  options.host));
  }
  // Before any setup: a second service must not start (nor seed) on a port that is taken.
  if (auto problem = listen_problem(options.host, options.port); !problem.empty()) {
    throw ServiceError(fmt::format("cannot listen on {}:{}: {}", options.host, options.port, problem));
  }

  auto pipeline = std::make_shared<DeliveryPipeline>(DeliveryPipeline::from(config));
  const TelegramClient telegram(TelegramSettings::from(config));
  const std::string api_token = config.value("DATALAB_API_TOKEN");

  spdlog::info("serve: PostgreSQL {}, object store {}, bucket {}", pipeline->postgres().describe(),
               pipeline->store().settings().describe(), pipeline->store().bucket());
  pipeline->setup();
  spdlog::info("serve: tables and bucket ready");
  if (options.seed) {
    auto seeded = pipeline->seed_files();
    spdlog::info("serve: delivery files written: [{}], skipped (already there or processed): [{}]",
                 fmt::join(seeded.written, ", "), fmt::join(seeded.skipped, ", "));
  }

  GuardedServer server(options.limits);
  server.set_pre_routing_handler([&](const httplib::Request& request, httplib::Response& response) {
    if (t_stream) t_stream->start_body();  // the headers are in: the body's deadline starts
    if (const auto* methods = allowed_methods(request.path)) {
      if (request.method == "OPTIONS") {
        response.status = 204;
        response.set_header("Allow", *methods + ", OPTIONS");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!method_allowed(*methods, request.method)) {
        response.set_header("Allow", *methods + ", OPTIONS");
        reply(response, 405, {{"status", "method_not_allowed"},
                              {"error", fmt::format("{} does not answer {}; use {}", request.path, request.method,
                                                    *methods)}});
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (api_token.empty() || request.path == "/health") return httplib::Server::HandlerResponse::Unhandled;
    if (bearer_token_matches(request.get_header_value("Authorization"), api_token)) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    response.set_header("WWW-Authenticate", "Bearer");
    reply(response, 401, {{"status", "unauthorized"}, {"error", "a valid bearer token is required"}});
    return httplib::Server::HandlerResponse::Handled;
  });
  // Answers that cpp-httplib makes itself (a malformed request, a body over the limit, an
  // unknown path) get a JSON body too.
  server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& request,
                                                                  httplib::Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string error;
    switch (response.status) {
      case 404: error = fmt::format("no such endpoint: {}", request.path); break;
      case 413: error = "the request body is too large"; break;
      case 414: error = "the request URI is too long"; break;
      case 400: error = "malformed HTTP request"; break;
      default: error = fmt::format("the request failed with HTTP {}", response.status); break;
    }
    reply(response, response.status, {{"status", response.status == 404 ? "not_found" : "error"}, {"error", error}});
    return httplib::Server::HandlerResponse::Handled;
  }));
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

  // /upload takes no body (it loads the next file of the bucket): a request without one is
  // the normal case; a body that comes anyway is read and ignored.
  server.Post("/upload", [&](const httplib::Request& request, httplib::Response& response,
                             const httplib::ContentReader& content_reader) {
    if (!read_body(request, response, content_reader, options.limits.max_body_bytes)) return;
    guarded(response, "upload", [&] {
      const auto result = pipeline->upload();
      if (result.rejected) {
        reply(response, 422, {{"status", "rejected"},
                              {"file", result.source_file},
                              {"rejected_key", result.rejected_key},
                              {"reason_key", result.rejected_key + ".reason.txt"},
                              {"reason", result.reason},
                              {"details", fmt::format("{} cannot be loaded: {}; moved to {}", result.source_file,
                                                      result.reason, result.rejected_key)}});
        return;
      }
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

  server.Post("/notification", [&](const httplib::Request& request, httplib::Response& response,
                                   const httplib::ContentReader& content_reader) {
    const auto body = read_body(request, response, content_reader, options.limits.max_body_bytes);
    if (!body) return;
    guarded(response, "notification", [&] {
      NotificationRequest notification;
      if (auto reason = parse_notification(*body, notification)) {
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
    const auto problem = listen_problem(options.host, options.port);
    throw ServiceError(fmt::format("cannot listen on {}:{}: {}", options.host, options.port,
                                   problem.empty() ? "the port is already in use or not available" : problem));
  }
  std::atomic<bool> signalled{false};
  std::thread stopper([&] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    if (!signalled.exchange(true)) spdlog::info("serve: signal {} received, stopping", signal);
    server.begin_stop();
    server.stop();
  });
  const auto& limits = options.limits;
  spdlog::info("serve: listening on http://{}:{}{} ({} workers, at most {} connections; deadlines: headers {} s, "
               "body {} s, response {} s)",
               options.host, options.port, api_token.empty() ? "" : " (bearer token required)", limits.worker_threads,
               limits.max_connections, limits.header_timeout.count(), limits.body_timeout.count(),
               limits.write_timeout.count());
  server.listen_after_bind();
  const bool by_signal = signalled.exchange(true);
  if (!by_signal) pthread_kill(stopper.native_handle(), SIGTERM);  // wake the waiting thread
  stopper.join();
  spdlog::info("serve: stopped");
  // Stopped by SIGINT/SIGTERM is the normal end; the server stopping by itself is a failure.
  if (!by_signal) throw Error("the delivery service stopped with an error");
}

void add_serve_command(CLI::App& app, AppContext& context) {
  auto options = std::make_shared<ServeOptions>();
  auto* command = app.add_subcommand("serve", "run the delivery pipeline's HTTP API (week 9, airflow_pipeline)");
  command->add_option("--host", options->host, "address to listen on")->capture_default_str();
  command->add_option("--port", options->port, "port to listen on (1-65535)")->capture_default_str();
  command->add_flag("!--no-seed", options->seed, "do not write the five delivery files on start");
  command->callback([&context, options] { serve(context.config, *options); });
}

}  // namespace datalab
