#pragma once
// A module's results file (--results): a JSON document that scripts and benchmarks read.
#include <string>

#include <nlohmann/json.hpp>

namespace datalab {

// Writes `results` to `path` (parent folders made as needed); an empty path writes nothing.
// Throws Error naming the path when it cannot be written.
void write_results_file(const std::string& path, const nlohmann::json& results);

}  // namespace datalab
