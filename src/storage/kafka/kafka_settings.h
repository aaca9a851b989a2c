#pragma once
// Kafka connection settings from the original variable name (BOOTSTRAP_SERVER).
#include <string>

#include "core/config.h"

namespace datalab {

struct KafkaSettings {
  std::string bootstrap_servers;  // "host:port[,host:port...]"

  static KafkaSettings from(const Config& config) {
    return {config.value("BOOTSTRAP_SERVER")};
  }
};

}  // namespace datalab
