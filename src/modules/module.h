#pragma once
// A module is one scenario of the course project (library, star, ...): it owns its SQL and
// its story, and runs on the shared connectors. The CLI finds modules in its registry.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/config.h"
#include "core/result_table.h"

namespace datalab {

struct AppContext {
  Config config = Config::with_defaults();
  OutputFormat format = OutputFormat::Table;
};

// Everything a module creates outside datalab, so `datalab reset <module>` removes exactly
// that and nothing else.
struct ModuleFootprint {
  std::vector<std::string> postgres_schemas;
  std::vector<std::string> clickhouse_tables;  // in CLICKHOUSE_DB, in the order to drop them
  struct Objects {
    std::string bucket;
    std::string prefix;  // a key, a folder ("dir/"), or "" for every object of the bucket
  };
  std::vector<Objects> objects;
  std::vector<std::string> kafka_topics;
  struct IcebergTable {
    std::string catalog, ns, table;  // an entry of the SQL catalog (its files are among `objects`)
  };
  std::vector<IcebergTable> iceberg_tables;
};

class Module {
 public:
  virtual ~Module() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;
  // Flags of `datalab run <name>`; defaults must make a sensible `run all`.
  virtual void add_run_flags(CLI::App& command) = 0;
  // Extra subcommands under `datalab <name> ...` (optional).
  virtual void add_commands(CLI::App& /*root*/, AppContext& /*context*/) {}
  // Runs the whole scenario. A failure is an exception of a kind in core/error.h (its exit
  // code); rejected input rows are RejectedRows, thrown once the report has been finished.
  virtual void run(AppContext& context) = 0;
  // What run() and the module's commands create, under the settings in `config`.
  virtual ModuleFootprint footprint(const Config& config) const = 0;
};

// Each module's folder defines `std::unique_ptr<Module> datalab::<name>::make_module()`; the CLI's
// registry, generated from the one module list in src/CMakeLists.txt, calls them in that order.

}  // namespace datalab
