#pragma once
// `datalab spark sql "<query>" [--show N]`: any Spark SQL run on the cluster at
// SPARK_CONNECT_URL through datalab's Spark Connect client; rows as a table (or JSON/CSV),
// or Spark's own df.show() text.
#include <CLI/CLI.hpp>

#include "modules/module.h"

namespace datalab::spark_sql {

void add_spark_command(CLI::App& root, AppContext& context);

}  // namespace datalab::spark_sql
