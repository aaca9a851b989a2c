#include "core/results_file.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/error.h"

namespace datalab {

void write_results_file(const std::string& path, const nlohmann::json& results) {
  if (path.empty()) return;
  const auto file = std::filesystem::path(path);
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file);
  out << results.dump(2) << "\n";
  if (!out) throw Error(fmt::format("cannot write results file '{}'", path));
}

}  // namespace datalab
