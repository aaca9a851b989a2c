#pragma once
// `datalab doctor`: checks the machine (memory, disk) and each service under the current
// settings — does its port answer, does it answer as that service (and if not, which local
// process holds the port), which version it runs against the one the lab's scripts install —
// and prints what to do. Exit code 3 when a service is unreachable or wrong, 0 otherwise.
#include <CLI/CLI.hpp>

#include "modules/module.h"

namespace datalab::doctor {

void add_doctor_command(CLI::App& root, AppContext& context);

}  // namespace datalab::doctor
