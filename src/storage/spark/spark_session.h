#pragma once
// A Spark Connect session: one gRPC channel to the Connect server, a session id, and plan
// execution whose results arrive as Arrow IPC and are decoded into Arrow tables. gRPC and
// Spark errors become ServiceError with the server's message (secrets registered with
// redact() are masked); an unreachable server is reported as such, with the address.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <arrow/api.h>

#include "spark/connect/base.pb.h"
#include "storage/spark/spark_connect_settings.h"

namespace datalab::spark {

class DataFrame;

struct SparkResult {
  std::shared_ptr<arrow::Table> table;  // rows the plan returned (empty for commands)
  int64_t rows = 0;
};

class SparkSession : public std::enable_shared_from_this<SparkSession> {
 public:
  // Opens the channel and checks that the server answers (version request) within the
  // connect timeout; throws ServiceError naming the address otherwise.
  static std::shared_ptr<SparkSession> connect(const SparkConnectSettings& settings);
  ~SparkSession();  // releases the server-side session (best effort)
  SparkSession(const SparkSession&) = delete;
  SparkSession& operator=(const SparkSession&) = delete;

  const SparkConnectSettings& settings() const { return settings_; }
  const std::string& session_id() const { return session_id_; }
  const std::string& spark_version() const { return spark_version_; }

  DataFrame sql(const std::string& query);
  // spark.read.format(format).options(options).load(paths)
  DataFrame read(const std::string& format, const std::vector<std::string>& paths,
                 const std::map<std::string, std::string>& options = {});
  DataFrame read_parquet(const std::string& path);
  // spark.read.jdbc: `table` is a table name or "(SELECT …) AS q"; properties carry user,
  // password, driver and Spark's JDBC options (partitionColumn, lowerBound, upperBound,
  // numPartitions, fetchsize, …). The password is redacted from errors.
  DataFrame read_jdbc(const std::string& url, const std::string& table,
                      const std::map<std::string, std::string>& properties);

  // Runs a plan; `what` names it in errors ("write products through JDBC").
  SparkResult execute(const ::spark::connect::Plan& plan, const std::string& what);
  // Session configuration (spark.conf.set).
  void set_config(const std::string& key, const std::string& value);
  // spark.conf.get(key, None): the session's value, or nullopt when the key is unset.
  std::optional<std::string> get_config(const std::string& key);
  // Masks this value in every error message from now on (passwords put into plans).
  void redact(const std::string& secret);

 private:
  struct Channel;
  SparkSession(SparkConnectSettings settings, std::shared_ptr<Channel> channel);
  template <typename Request>
  void stamp(Request& request) const;
  [[noreturn]] void fail(const std::string& what, int code, const std::string& message) const;

  SparkConnectSettings settings_;
  std::shared_ptr<Channel> channel_;
  std::string session_id_;
  std::string spark_version_;
  std::vector<std::string> secrets_;
};

}  // namespace datalab::spark
