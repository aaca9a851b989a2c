#include "modules/doctor/doctor_command.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "core/config.h"
#include "core/error.h"
#include "modules/doctor/port_owner.h"
#include "storage/clickhouse/clickhouse_client.h"
#include "storage/kafka/kafka_admin.h"
#include "storage/objectstore/object_store.h"
#include "storage/postgres/postgres_connection.h"
#include "storage/spark/spark_connect_settings.h"

namespace datalab::doctor {

namespace {

enum class Status { ok, warn, fail };

struct Check {
  std::string what;
  Status status = Status::ok;
  std::string detail, hint;
};

const char* to_string(Status s) { return s == Status::ok ? "ok" : s == Status::warn ? "warn" : "FAIL"; }

// The versions the lab's service scripts install (services/*.sh): another one may work, but is untested.
constexpr int kPostgresMajor = 15;
constexpr const char* kClickHouseVersion = "18.16";

bool is_local(const std::string& host) { return host == "localhost" || host == "127.0.0.1" || host == "::1"; }

// Whether a TCP connection to host:port opens within two seconds.
bool port_answers(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return false;
  bool open = false;
  for (auto* a = found; a && !open; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      open = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int error = 0;
      socklen_t length = sizeof error;
      open = poll(&p, 1, 2'000) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return open;
}

// One service: its port, then `speak` (which asks it something as that service and returns
// a detail such as its version, or throws). A port that answers but not as the service is
// held by something else: the local process holding it is named.
Check check_service(const std::string& what, const std::string& script, const std::string& host, int port,
                    const std::string& port_setting, const std::function<Check()>& speak) {
  const std::string where = fmt::format("{}:{}", host, port);
  if (!port_answers(host, port)) {
    return {what, Status::fail, "nothing answers on " + where,
            is_local(host) ? "start it: services/ctl start " + script
                           : "start it, or point " + port_setting + " at a running one"};
  }
  try {
    Check check = speak();
    check.what = what;
    return check;
  } catch (const Error& e) {
    std::string detail = fmt::format("{} answers, but not as {}: {}", where, what, e.what());
    std::string hint = "check the settings (datalab config)";
    if (is_local(host)) {
      if (const auto owner = port_owner(port)) {
        detail += fmt::format(" (port {} is held by {}, pid {})", port, owner->command, owner->pid);
        hint = fmt::format("if {} is not {}, stop it or move {}", owner->command, what, port_setting);
      }
    }
    return {what, Status::fail, detail, hint};
  }
}

int port_of(const std::string& text, const std::string& setting) {
  try {
    return std::stoi(text);
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("{} is not a port: {}", setting, text));
  }
}

// Where the lab's S3 server listens, as services/seaweedfs.sh wrote it for other tools
// (.state/seaweedfs/s3.env under the checkout); nullopt when it has not run here.
std::optional<std::string> lab_s3_endpoint() {
  const char* path = ".state/seaweedfs/s3.env";
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& [key, value] : parse_env_text(text.str(), path)) {
    if (key == "S3_ENDPOINT") return value;
  }
  return std::nullopt;
}

Check memory() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  long long kib = -1, value;
  while (in >> key >> value >> unit) {
    if (key == "MemAvailable:") kib = value;
  }
  if (kib < 0) return {"memory", Status::warn, "cannot read /proc/meminfo", ""};
  const double gib = kib / 1048576.0;
  if (gib < 2) {
    return {"memory", Status::warn, fmt::format("{:.1f} GiB available", gib),
            "the services with Spark need about 4 GiB; stop what you do not need"};
  }
  return {"memory", Status::ok, fmt::format("{:.1f} GiB available", gib), ""};
}

Check disk() {
  std::error_code ec;
  const auto space = std::filesystem::space(".", ec);
  if (ec) return {"disk", Status::warn, "cannot read the free space here: " + ec.message(), ""};
  const double gib = static_cast<double>(space.available) / (1 << 30);
  if (gib < 5) {
    return {"disk", Status::warn, fmt::format("{:.1f} GiB free here", gib),
            "the services' data (.state/) and downloads (~/.cache/datalab) need several GiB"};
  }
  return {"disk", Status::ok, fmt::format("{:.1f} GiB free here", gib), ""};
}

std::vector<Check> run_checks(const Config& config) {
  std::vector<Check> checks{memory(), disk()};

  const auto postgres = PostgresSettings::from(config);
  checks.push_back(check_service("PostgreSQL", "postgres", postgres.host, port_of(postgres.port, "DB_PORT"), "DB_PORT",
                                 [&] {
                                   PgConnection db(postgres);
                                   const int major = db.server_version() / 10000;
                                   const std::string version = db.exec("SHOW server_version").value(0, 0).data();
                                   if (major != kPostgresMajor) {
                                     return Check{"", Status::warn, "version " + version,
                                                  fmt::format("datalab is tested with {}", kPostgresMajor)};
                                   }
                                   return Check{"", Status::ok, "version " + version, ""};
                                 }));

  const auto clickhouse = ClickHouseSettings::from(config);
  checks.push_back(check_service("ClickHouse", "clickhouse", clickhouse.host,
                                 port_of(clickhouse.port, "CLICKHOUSE_DB_PORT"), "CLICKHOUSE_DB_PORT", [&] {
                                   clickhouse::ClickHouseClient client(clickhouse);
                                   const std::string version = client.server_version();
                                   if (version.rfind(kClickHouseVersion, 0) != 0) {
                                     return Check{"", Status::warn, "version " + version,
                                                  fmt::format("datalab is tested with {}", kClickHouseVersion)};
                                   }
                                   return Check{"", Status::ok, "version " + version, ""};
                                 }));

  const auto kafka = KafkaSettings::from(config);
  const std::string first = kafka.bootstrap_servers.substr(0, kafka.bootstrap_servers.find(','));
  const auto colon = first.rfind(':');
  if (colon == std::string::npos) throw ConfigError("BOOTSTRAP_SERVER is not host:port: " + first);
  checks.push_back(check_service("Kafka", "kafka", first.substr(0, colon),
                                 port_of(first.substr(colon + 1), "BOOTSTRAP_SERVER"), "BOOTSTRAP_SERVER", [&] {
                                   KafkaAdmin admin(kafka);
                                   const bool pipeline_topic = admin.topic_exists(config.value("KAFKA_TOPIC"));
                                   return Check{"", Status::ok,
                                                fmt::format("answers metadata; topic {} {}", config.value("KAFKA_TOPIC"),
                                                            pipeline_topic ? "exists" : "not created yet"),
                                                ""};
                                 }));

  const auto store = ObjectStoreSettings::from(config);
  const auto lab_endpoint = lab_s3_endpoint();
  if (!store.is_s3()) {
    if (lab_endpoint) {
      checks.push_back({"S3", Status::warn,
                        fmt::format("S3_ENDPOINT is empty: objects go to the local directory {}, while the lab's S3 "
                                    "server (services/seaweedfs.sh) is at {}",
                                    store.local_root, *lab_endpoint),
                        "to use it: set -a; . .state/seaweedfs/s3.env; set +a (scripts/run-all does)"});
    } else {
      checks.push_back({"S3", Status::ok, "not configured: objects go to the local directory " + store.local_root,
                        "set S3_ENDPOINT to use an S3 server"});
    }
  } else {
    const auto scheme = store.endpoint.find("://");
    const std::string authority = store.endpoint.substr(scheme == std::string::npos ? 0 : scheme + 3);
    const std::string host_port = authority.substr(0, authority.find('/'));
    const auto s3_colon = host_port.rfind(':');
    const std::string host = host_port.substr(0, s3_colon);
    const int port = s3_colon == std::string::npos ? (store.endpoint.rfind("https", 0) == 0 ? 443 : 80)
                                                   : port_of(host_port.substr(s3_colon + 1), "S3_ENDPOINT");
    Check s3 = check_service("S3", "seaweedfs", host, port, "S3_ENDPOINT", [&] {
      ObjectStore bucket(store, config.value("S3_BUCKET"));
      bucket.exists("datalab-doctor-probe");  // a signed request: the keys are checked
      return Check{"", Status::ok, store.describe(), ""};
    });
    if (s3.status == Status::ok && lab_endpoint && *lab_endpoint != store.endpoint) {
      s3.status = Status::warn;
      s3.detail += fmt::format("; the lab's S3 server (services/seaweedfs.sh) is at {} instead", *lab_endpoint);
      s3.hint = "fine if you mean another server; the lab's settings: .state/seaweedfs/s3.env";
    }
    checks.push_back(s3);
  }

  try {
    const auto spark = spark::SparkConnectSettings::from(config);
    checks.push_back(check_service("Spark Connect", "spark", spark.host, spark.port, "SPARK_CONNECT_URL", [&] {
      return Check{"", Status::ok, spark.describe() + " answers (gRPC not opened: a session costs the cluster)", ""};
    }));
  } catch (const ConfigError& e) {
    checks.push_back({"Spark Connect", Status::warn, e.what(), "set SPARK_CONNECT_URL for the Spark engine"});
  }
  return checks;
}

}  // namespace

void add_doctor_command(CLI::App& root, AppContext& context) {
  auto* command = root.add_subcommand("doctor", "check the machine and every service under the current settings");
  command->callback([&context] {
    const auto checks = run_checks(context.config);
    std::vector<std::string> secrets;  // the connectors mask their own; this is the last line
    for (const auto& key : context.config.keys()) {
      if (Config::is_secret(key)) secrets.push_back(context.config.value(key));
    }
    ResultTable table{{"check", "status", "detail", "what to do"}, {}, {}};
    int failed = 0;
    for (const auto& c : checks) {
      table.add_row({c.what, to_string(c.status), mask_secrets(c.detail, secrets), c.hint});
      failed += c.status == Status::fail;
    }
    Report report(context.format);
    report.table("datalab doctor", table);
    report.finish();
    if (failed > 0) throw ServiceError(fmt::format("doctor: {} check(s) failed", failed));
  });
}

}  // namespace datalab::doctor
