#pragma once
// `datalab reset MODULE [--dry-run]`: removes exactly what the module creates (its
// ModuleFootprint) and nothing else: Iceberg catalog entries, objects, Kafka topics,
// ClickHouse tables, PostgreSQL schemas, in that order, each reported as dropped or absent.
#include <memory>
#include <vector>

#include <CLI/CLI.hpp>

#include "modules/module.h"

namespace datalab::reset {

void add_reset_command(CLI::App& root, AppContext& context, const std::vector<std::unique_ptr<Module>>& modules);

}  // namespace datalab::reset
