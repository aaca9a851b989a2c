#pragma once
// Week 4: a star schema with SCD type 2 dimensions (customer_dim, product_dim) and a
// sales_fact loaded through staging joined to the current dimension rows.
#include <cstdint>
#include <string>

#include "datagen/star_generator.h"
#include "modules/module.h"

namespace datalab::star {

struct StarRunOptions {
  std::string source = "fixtures";  // fixtures | generated | a folder with the CSV files
  StarSizes sizes;
  uint64_t seed = 42;
  std::string load_date;  // SCD2 start/end date of this load; empty = today
  int64_t batch_rows = 65'536;
};

class StarModule : public Module {
 public:
  std::string name() const override { return "star"; }
  std::string summary() const override {
    return "star schema: SCD2 customer/product dimensions, sales fact via staging (week 4)";
  }
  void add_run_flags(CLI::App& command) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config&) const override { return {{"star"}, {}, {}, {}, {}}; }

 private:
  StarRunOptions options_;
  CLI::Option* source_flag_ = nullptr;
  std::vector<CLI::Option*> size_flags_;
};

// The load date flag as a date (today when empty); throws ConfigError when malformed.
int32_t parse_load_date(const std::string& text);

}  // namespace datalab::star
