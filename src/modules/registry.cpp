#include "modules/library/library_module.h"
#include "modules/module.h"

namespace datalab {

std::vector<std::unique_ptr<Module>> make_modules() {
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(std::make_unique<library::LibraryModule>());
  return modules;
}

}  // namespace datalab
