#pragma once
// `datalab copy SOURCE TARGET [flags]`: a table, query or set of files from any storage
// datalab knows into any other, streamed as Arrow batches (transfer/copy_run.h).
#include <CLI/CLI.hpp>

#include "modules/module.h"

namespace datalab::transfer {

void add_copy_command(CLI::App& root, AppContext& context);

}  // namespace datalab::transfer
