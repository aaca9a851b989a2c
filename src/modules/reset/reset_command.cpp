#include "modules/reset/reset_command.h"

#include <fmt/format.h>

#include "core/error.h"
#include "storage/clickhouse/clickhouse_client.h"
#include "storage/clickhouse/clickhouse_sql.h"
#include "storage/iceberg/sql_catalog.h"
#include "storage/kafka/kafka_admin.h"
#include "storage/objectstore/object_store.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::reset {

namespace {

struct Step {
  std::string kind, name;
  bool present;
};

// Finds what of the footprint exists and, unless dry_run, removes it. Services the
// footprint does not name are not contacted.
std::vector<Step> reset(const ModuleFootprint& footprint, const Config& config, bool dry_run) {
  std::vector<Step> steps;
  std::unique_ptr<PgConnection> db;
  auto postgres = [&]() -> PgConnection& {
    if (!db) db = std::make_unique<PgConnection>(PostgresSettings::from(config));
    return *db;
  };
  // Catalog entries first: no entry may point at files already removed.
  for (const auto& t : footprint.iceberg_tables) {
    const std::string name = fmt::format("{}.{}.{}", t.catalog, t.ns, t.table);
    // The SQL catalog's tables exist once anything used the catalog on this database.
    bool present = postgres().exec("SELECT to_regclass('iceberg_tables') IS NOT NULL").value(0, 0) == "t";
    iceberg::SqlCatalog catalog(postgres(), t.catalog);
    present = present && catalog.metadata_location(t.ns, t.table).has_value();
    if (present && !dry_run) catalog.drop_table(t.ns, t.table);
    steps.push_back({"iceberg table", name, present});
  }
  for (const auto& o : footprint.objects) {
    ObjectStore store(ObjectStoreSettings::from(config), o.bucket);
    const bool folder = o.prefix.empty() || o.prefix.back() == '/';
    std::vector<std::string> keys;
    if (folder) {
      for (const auto& object : store.list(o.prefix)) keys.push_back(object.key);
    } else if (store.exists(o.prefix)) {
      keys.push_back(o.prefix);
    }
    if (!dry_run) {
      for (const auto& key : keys) store.remove(key);
    }
    const std::string what = o.prefix.empty() ? "every object" : o.prefix;
    steps.push_back({"objects", fmt::format("{}/{} ({} object{})", o.bucket, what, keys.size(),
                                            keys.size() == 1 ? "" : "s"),
                     !keys.empty()});
  }
  if (!footprint.kafka_topics.empty()) {
    KafkaAdmin admin(KafkaSettings::from(config));
    for (const auto& topic : footprint.kafka_topics) {
      const bool present = admin.topic_exists(topic);
      if (present && !dry_run) admin.delete_topic(topic);
      steps.push_back({"kafka topic", topic, present});
    }
  }
  if (!footprint.clickhouse_tables.empty()) {
    const auto settings = ClickHouseSettings::from(config);
    clickhouse::ClickHouseClient clickhouse(settings);
    for (const auto& table : footprint.clickhouse_tables) {
      const bool present =
          clickhouse.scalar(fmt::format("SELECT count() FROM system.tables WHERE database = {} AND name = {}",
                                        clickhouse::quote_string(settings.database),
                                        clickhouse::quote_string(table))) != "0";
      if (present && !dry_run) {
        clickhouse.execute(fmt::format("DROP TABLE IF EXISTS {}.{}", clickhouse::quote_identifier(settings.database),
                                       clickhouse::quote_identifier(table)));
      }
      steps.push_back({"clickhouse table", settings.database + "." + table, present});
    }
  }
  for (const auto& schema : footprint.postgres_schemas) {
    const bool present =
        postgres().exec("SELECT count(*) FROM pg_namespace WHERE nspname = $1", {schema}).integer(0, 0) > 0;
    if (present && !dry_run) postgres().exec(fmt::format("DROP SCHEMA IF EXISTS {} CASCADE", quote_identifier(schema)));
    steps.push_back({"postgres schema", schema, present});
  }
  return steps;
}

}  // namespace

void add_reset_command(CLI::App& root, AppContext& context, const std::vector<std::unique_ptr<Module>>& modules) {
  auto* command = root.add_subcommand(
      "reset", "remove exactly what a module created (its schema, tables, objects, topics, catalog entries)");
  auto module_name = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  std::vector<std::string> names;
  for (const auto& module : modules) names.push_back(module->name());
  command->add_option("module", *module_name, "the module: " + fmt::format("{}", fmt::join(names, ", ")))
      ->required()
      ->check(CLI::IsMember(names));
  command->add_flag("--dry-run", *dry_run, "show what would be removed, remove nothing");
  command->callback([&context, &modules, module_name, dry_run] {
    const Module* module = nullptr;
    for (const auto& m : modules) {
      if (m->name() == *module_name) module = m.get();
    }
    const auto steps = reset(module->footprint(context.config), context.config, *dry_run);
    ResultTable table{{"kind", "name", "result"}, {}, {}};
    for (const auto& step : steps) {
      table.add_row({step.kind, step.name, !step.present ? "absent" : *dry_run ? "would remove" : "removed"});
    }
    Report report(context.format);
    report.table(fmt::format("reset {}{}", *module_name, *dry_run ? " (dry run)" : ""), table);
    report.finish();
  });
}

}  // namespace datalab::reset
