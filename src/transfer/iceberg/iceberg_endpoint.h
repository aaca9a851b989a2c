#pragma once
// An Iceberg table as a `datalab copy` source and target: iceberg://catalog/namespace.table, the
// PostgreSQL SQL catalog (the DB_* settings, pyiceberg's layout) and the warehouse in the
// object store (bucket S3_BUCKET, or ?bucket=). The rows go into Parquet data files; one
// snapshot commits them (append, or replace as an overwrite), so readers see all or none.
#include <memory>
#include <optional>

#include "core/config.h"
#include "transfer/batch_stream.h"
#include "transfer/endpoint.h"

namespace datalab::transfer {

// The table's current snapshot as a source (copied whole; row-level deletes are refused).
std::unique_ptr<BatchSource> make_iceberg_source(const Endpoint& endpoint, const Config& config,
                                                 const std::optional<IncrementalFilter>& filter);
std::unique_ptr<BatchTarget> make_iceberg_target(const Endpoint& endpoint, const Config& config);

}  // namespace datalab::transfer
