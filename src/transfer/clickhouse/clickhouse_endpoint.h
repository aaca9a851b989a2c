#pragma once
// ClickHouse as a `datalab copy` source (a table or a ?query=, streamed) and target (append,
// atomic replace, --create), over its HTTP interface in Native format. See the .cpp for what
// an interrupted copy leaves: ClickHouse has no transactions.
#include <memory>
#include <optional>

#include "transfer/batch_stream.h"
#include "transfer/endpoint.h"

namespace datalab::transfer {

std::unique_ptr<BatchSource> make_clickhouse_source(const Endpoint& endpoint,
                                                    const std::optional<IncrementalFilter>& filter);
std::unique_ptr<BatchTarget> make_clickhouse_target(const Endpoint& endpoint);

}  // namespace datalab::transfer
