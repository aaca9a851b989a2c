#pragma once
// Week 4: Data Vault 2.0 for customers, products, orders and order statuses — hubs,
// links and versioned satellites, loaded from the star's input plus generated orders,
// and a query that rebuilds the current state of every order from the vault.
#include <cstdint>
#include <string>

#include "modules/module.h"

namespace datalab::data_vault {

struct VaultRunOptions {
  std::string source = "fixtures";  // fixtures | a folder with customers/products CSV (star input)
  int64_t orders = 12;
  uint64_t seed = 42;
  int64_t shown_orders = 20;
};

class DataVaultModule : public Module {
 public:
  std::string name() const override { return "data_vault"; }
  std::string summary() const override {
    return "Data Vault 2.0: hubs, links, versioned satellites, current state rebuilt from the vault (week 4)";
  }
  void add_run_flags(CLI::App& command) override;
  void run(AppContext& context) override;
  ModuleFootprint footprint(const Config&) const override { return {{"data_vault"}, {}, {}, {}, {}}; }

 private:
  VaultRunOptions options_;
};

}  // namespace datalab::data_vault
