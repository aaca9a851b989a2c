// datalab: one binary, subcommands in the style of psql / clickhouse-client.
//   datalab run <module>|all [flags]     run a course module end to end
//   datalab library add|update-reader|delete-book|query ...
//   datalab erd <schema> -o FILE.png      entity-relationship diagram of a live schema
//   datalab spark sql "<query>"           any Spark SQL on the cluster (Spark Connect)
//   datalab copy SOURCE TARGET            any table or files from one storage into another
//   datalab cdc run|status|drop           PostgreSQL's changes into Kafka (logical replication)
//   datalab reset <module>               remove exactly what a module created
//   datalab doctor                       check the machine and the services, say what to do
//   datalab config                       effective settings and where each came from
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cli/module_registry.h"
#include "core/error.h"
#include "modules/erd/erd_command.h"
#include "modules/doctor/doctor_command.h"
#include "modules/reset/reset_command.h"
#include "modules/spark_sql/spark_sql_command.h"
#include "transfer/cdc/cdc_command.h"
#include "transfer/command/copy_command.h"
#include "server/delivery_api.h"

using namespace datalab;

namespace {

void print_config(const AppContext& context) {
  ResultTable table{{"setting", "value", "source"}, {}, {}};
  for (const auto& key : context.config.keys()) {
    table.add_row({key, context.config.display(key), std::string(to_string(context.config.source_of(key)))});
  }
  Report report(context.format);
  report.table("settings (lowest priority first: default < .env file < environment < flag)", table);
  report.finish();
}

// Ctrl-C / SIGTERM during a command: say what was stopped before exiting. The message is made
// before the command runs, so the handler only writes it (async-signal-safe). Commands that
// stop cleanly on their own (kafka produce/consume, serve) install their own handlers.
char interrupt_message[512] = "\ninterrupted: datalab was stopped\n";

extern "C" void on_interrupt(int signal_number) {
  const auto ignored = write(STDERR_FILENO, interrupt_message, std::strlen(interrupt_message));
  (void)ignored;
  _exit(128 + signal_number);
}

void install_interrupt_message(const CLI::App& app) {
  std::string command = "datalab";
  for (const CLI::App* at = &app; !at->get_subcommands().empty();) {
    at = at->get_subcommands().front();
    command += " " + at->get_name();
  }
  const std::string text = fmt::format(
      "\ninterrupted: stopped `{}`; PostgreSQL rolls back its open transaction, so the step in progress changed "
      "nothing (steps reported as done before it are kept); run it again to complete it\n",
      command);
  std::snprintf(interrupt_message, sizeof interrupt_message, "%s", text.c_str());
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  // Logs go to stderr: stdout carries the report alone, so --format json output parses.
  spdlog::set_default_logger(spdlog::stderr_color_mt("datalab"));
  AppContext context;
  auto modules = make_modules();

  CLI::App app{"datalab — a hands-on data engineering lab and toolkit"};
  app.require_subcommand(1);
  std::vector<std::string> env_files, assignments;
  std::string format = "table";
  bool verbose = false;
  app.add_option("--env-file", env_files, ".env-style settings file (repeatable; ./.env is read when present)");
  app.add_option("-s,--set", assignments, "KEY=VALUE setting, overrides files and environment (repeatable)");
  app.add_option("--format", format, "output: table | json | csv")->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "debug logging");
  app.parse_complete_callback([&] {
    spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
    context.format = parse_output_format(format);
    context.config.load_env_file(".env", /*required=*/false);
    for (const auto& file : env_files) context.config.load_env_file(file, /*required=*/true);
    context.config.load_environment();
    for (const auto& assignment : assignments) context.config.set_from_flag(assignment);
    context.config.validate();
    install_interrupt_message(app);
  });

  auto* run = app.add_subcommand("run", "run a module end to end (or all of them)");
  run->require_subcommand(1);
  for (auto& module : modules) {
    auto* command = run->add_subcommand(module->name(), module->summary());
    module->add_run_flags(*command);
    command->callback([&context, &module] { module->run(context); });
  }
  // `run all` stops at the first module that throws, rejected rows (RejectedRows, exit 4)
  // included: the later modules do not run, and the exit code is that module's.
  run->add_subcommand("all", "run every module with its defaults, in order")->callback([&] {
    for (auto& module : modules) {
      spdlog::info("== datalab run {} ==", module->name());
      module->run(context);
    }
  });
  for (auto& module : modules) module->add_commands(app, context);
  erd::add_erd_command(app, context);
  reset::add_reset_command(app, context, modules);
  doctor::add_doctor_command(app, context);
  spark_sql::add_spark_command(app, context);
  transfer::add_copy_command(app, context);
  cdc::add_cdc_command(app, context);
  add_serve_command(app, context);  // the delivery pipeline's HTTP API (server/, above the modules)
  app.add_subcommand("config", "show the effective settings (secrets masked)")->callback([&] { print_config(context); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; every parse error is a usage error, exit 2 (README).
    return app.exit(e) == 0 ? 0 : 2;
  } catch (const ServiceError& e) {
    std::cerr << "error: " << e.what() << "\n";
    // The lab's own services: say how to start the one that did not answer.
    if (!e.unreachable_service().empty()) {
      std::cerr << fmt::format("hint: `services/ctl start {}` starts the local one\n", e.unreachable_service());
    }
    return e.exit_code();
  } catch (const MissingSchemaError& e) {
    std::cerr << "error: " << e.what() << "\n";
    for (const auto& module : modules) {
      if (module->name() == e.schema()) std::cerr << fmt::format("hint: `datalab run {}` creates it\n", e.schema());
    }
    return e.exit_code();
  } catch (const Error& e) {  // ConfigError 2, RejectedRows 4, any other Error 1 (core/error.h)
    std::cerr << "error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
