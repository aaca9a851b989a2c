#include "transfer/clickhouse/clickhouse_endpoint.h"

#include <fmt/format.h>

#include "core/error.h"

namespace datalab::transfer {

// Being written (issue 13): until then a clear refusal.
std::unique_ptr<BatchSource> make_clickhouse_source(const Endpoint& endpoint, const std::optional<IncrementalFilter>&) {
  throw ConfigError(fmt::format("copying from {} ('{}') is not supported yet", endpoint.kind_name(), endpoint.masked));
}

std::unique_ptr<BatchTarget> make_clickhouse_target(const Endpoint& endpoint) {
  throw ConfigError(fmt::format("copying into {} ('{}') is not supported yet", endpoint.kind_name(), endpoint.masked));
}

}  // namespace datalab::transfer
