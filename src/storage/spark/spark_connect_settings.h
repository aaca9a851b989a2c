#pragma once
// Where the Spark Connect server is: SPARK_CONNECT_URL in Spark's own form,
// sc://host:port[/;param=value;...] with the parameters Spark's clients know
// (user_id, token, use_ssl). The token is never printed.
#include <string>

#include "core/config.h"

namespace datalab::spark {

struct SparkConnectSettings {
  std::string host = "127.0.0.1";
  int port = 15002;
  std::string user_id = "datalab";
  std::string token;  // sent as "authorization: Bearer <token>"; implies TLS in Spark's clients
  bool use_ssl = false;
  double connect_timeout_seconds = 10;

  // Throws ConfigError naming what is wrong with the URL.
  static SparkConnectSettings parse(const std::string& url);
  static SparkConnectSettings from(const Config& config);
  std::string target() const;    // host:port, for gRPC
  std::string describe() const;  // sc://host:port (user ...), without the token
};

}  // namespace datalab::spark
