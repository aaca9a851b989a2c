#pragma once
// An Iceberg table as a `datalab copy` target: iceberg://catalog/namespace.table, the
// PostgreSQL SQL catalog (the DB_* settings, pyiceberg's layout) and the warehouse in the
// object store (bucket S3_BUCKET, or ?bucket=). The rows go into Parquet data files; one
// snapshot commits them (append, or replace as an overwrite), so readers see all or none.
#include <memory>

#include "core/config.h"
#include "transfer/batch_stream.h"
#include "transfer/endpoint.h"

namespace datalab::transfer {

std::unique_ptr<BatchTarget> make_iceberg_target(const Endpoint& endpoint, const Config& config);

}  // namespace datalab::transfer
