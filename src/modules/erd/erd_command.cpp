#include "modules/erd/erd_command.h"

#include <memory>

#include <fmt/format.h>

#include "modules/erd/schema_diagram.h"
#include "storage/postgres/postgres_catalog.h"

namespace datalab::erd {

void add_erd_command(CLI::App& root, AppContext& context) {
  struct Arguments {
    std::string schema, output;
  };
  auto arguments = std::make_shared<Arguments>();
  auto* erd = root.add_subcommand("erd", "draw the ERD of a live schema (star, data_vault, ...) with Graphviz");
  erd->add_option("schema", arguments->schema, "PostgreSQL schema, e.g. star or data_vault")->required();
  erd->add_option("-o,--output", arguments->output, "picture to write: .png, .svg, .pdf, or .dot for the DOT text")
      ->required();
  erd->callback([arguments, &context] {
    PgConnection db(PostgresSettings::from(context.config));
    const CatalogSchema schema = read_catalog_schema(db, arguments->schema);
    write_diagram(to_dot(schema), arguments->output);
    std::size_t foreign_keys = 0, columns = 0;
    for (const auto& table : schema.tables) {
      columns += table.columns.size();
      for (const auto& key : table.keys) foreign_keys += key.kind == 'f';
    }
    Report report(context.format);
    report.summary("erd", {{"schema", schema.name},
                           {"tables", std::to_string(schema.tables.size())},
                           {"columns", std::to_string(columns)},
                           {"foreign keys", std::to_string(foreign_keys)},
                           {"written", arguments->output}});
    report.finish();
  });
}

}  // namespace datalab::erd
