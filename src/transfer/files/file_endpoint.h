#pragma once
// Files as a `datalab copy` source and target: Parquet, CSV and JSON Lines, one file, a
// folder or a glob, on S3 (s3://bucket/key, the S3_* settings) or on the local disk.
#include <memory>
#include <optional>

#include "core/config.h"
#include "transfer/batch_stream.h"
#include "transfer/endpoint.h"

namespace datalab::transfer {

std::unique_ptr<BatchSource> make_file_source(const Endpoint& endpoint, const Config& config,
                                              const std::optional<IncrementalFilter>& filter);
std::unique_ptr<BatchTarget> make_file_target(const Endpoint& endpoint, const Config& config);

}  // namespace datalab::transfer
