#pragma once
// `datalab erd <schema> -o FILE.png|svg|pdf|dot`: the ERD of a live schema (star,
// data_vault, or any other), read from PostgreSQL's catalogs and drawn with Graphviz.
#include <CLI/CLI.hpp>

#include "modules/module.h"

namespace datalab::erd {

void add_erd_command(CLI::App& root, AppContext& context);

}  // namespace datalab::erd
