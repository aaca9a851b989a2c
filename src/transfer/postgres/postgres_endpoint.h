#pragma once
// PostgreSQL as a `datalab copy` source (a table or a query, read by binary COPY straight into
// Arrow batches) and target (binary COPY inside one transaction: append, replace by
// TRUNCATE + COPY FREEZE, or merge through a staging table; incremental watermarks in
// datalab.copy_watermarks, committed with the rows).
#include <memory>
#include <optional>

#include "transfer/batch_stream.h"
#include "transfer/endpoint.h"

namespace datalab::transfer {

std::unique_ptr<BatchSource> make_postgres_source(const Endpoint& endpoint, const std::optional<IncrementalFilter>& filter);
std::unique_ptr<BatchTarget> make_postgres_target(const Endpoint& endpoint);

}  // namespace datalab::transfer
