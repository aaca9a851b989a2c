#pragma once
// datalab cdc run SOURCE TARGET | status SOURCE | drop SOURCE [TARGET]: change data capture
// from PostgreSQL (cdc_stream.h) into Kafka, and the care of its replication slot.
#include <CLI/CLI.hpp>

#include "modules/module.h"

namespace datalab::cdc {

void add_cdc_command(CLI::App& root, AppContext& context);

// `datalab copy postgres+cdc://… kafka://…`: one batch run of the stream (cdc run
// --until-caught-up), reported as cdc run reports.
void run_cdc_until_caught_up(const std::string& source, const std::string& target, AppContext& context);

}  // namespace datalab::cdc
