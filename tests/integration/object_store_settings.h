#pragma once
// Object store settings for tests: the same precedence as datalab (defaults < ./.env <
// environment); when no S3 endpoint is configured, the one that `services/ctl start
// seaweedfs` wrote to .state/seaweedfs/s3.env.
#include <filesystem>
#include <optional>

#include "core/config.h"
#include "storage/objectstore/object_store.h"

namespace datalab::test_support {

inline std::optional<ObjectStoreSettings> s3_test_settings() {
  auto config = Config::with_defaults();
  config.load_env_file(".env", false);
  config.load_environment();
  if (config.value("S3_ENDPOINT").empty()) {
    const auto file = std::filesystem::path(DATALAB_SOURCE_DIR) / ".state" / "seaweedfs" / "s3.env";
    if (!std::filesystem::exists(file)) return std::nullopt;
    config.load_env_file(file.string(), true);
  }
  auto settings = ObjectStoreSettings::from(config);
  if (!settings.is_s3()) return std::nullopt;
  return settings;
}

}  // namespace datalab::test_support
