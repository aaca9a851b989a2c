#pragma once
// Week 3: an OLTP library database with validated CRUD, bulk generation and the five
// showcase queries (paging, COALESCE, UNION, materialized view + recursive CTE + LATERAL,
// window function).
#include <cstdint>
#include <string>

#include "datagen/library_generator.h"
#include "modules/module.h"

namespace datalab::library {

struct LibraryRunOptions {
  LibrarySizes sizes;
  uint64_t seed = 42;
  std::string as_of = "2025-06-30";  // anchors generated dates, so reruns give the same data
  bool demo = true;                  // run the validated-write and query demonstrations
};

class LibraryModule : public Module {
 public:
  std::string name() const override { return "library"; }
  std::string summary() const override {
    return "OLTP library database: validated CRUD, bulk generation, showcase queries (week 3)";
  }
  void add_run_flags(CLI::App& command) override;
  void add_commands(CLI::App& root, AppContext& context) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config&) const override { return {{"library"}, {}, {}, {}, {}}; }

 private:
  LibraryRunOptions options_;
  // `datalab library ...` arguments
  std::string add_table_, add_file_, query_name_;
  std::vector<std::string> add_rows_;
  std::string id_text_;  // parsed strictly: CLI11 would clamp an id beyond int64
  int64_t after_ = 0, limit_ = 10;
  std::string first_name_, last_name_;
};

}  // namespace datalab::library
