#pragma once
// The vault's input: the star's customers and products (their history split into loads:
// first versions, then changes) plus generated orders, each with one to three products
// and a status history (created -> paid -> shipped -> delivered, or cancelled) that
// unfolds over the loads.
#include <cstdint>
#include <string>
#include <vector>

#include "inputs/star_input.h"

namespace datalab::data_vault {

struct OrderRecord {
  int64_t order_id, customer_id;
  int32_t order_date;  // days since 1970-01-01
};
struct OrderLineRecord {
  int64_t order_id, product_id;
  int32_t quantity;
  int64_t unit_price_cents;
};
struct OrderStatusRecord {
  int64_t order_id;
  std::string status;
  int64_t status_time_us;  // microseconds since 1970-01-01
};

// Everything one load brings; a business key appears at most once per load.
struct VaultLoad {
  std::vector<inputs::CustomerRecord> customers;
  std::vector<inputs::ProductRecord> products;
  std::vector<OrderRecord> orders;
  std::vector<OrderLineRecord> lines;
  std::vector<OrderStatusRecord> statuses;
};

// Splits the star input into loads (k-th version of a key goes to load k; at least two
// loads) and adds `orders` generated orders over the customers and products it names.
// Orders and their lines arrive in load 1; statuses spread over the loads.
std::vector<VaultLoad> vault_loads(const inputs::StarInput& input, int64_t orders, uint64_t seed);

// What the vault's current-state query must return for one order, computed from the loads.
struct ExpectedOrder {
  int64_t order_id, customer_id;
  std::string customer, products, total, status;
};
std::vector<ExpectedOrder> expected_current_orders(const std::vector<VaultLoad>& loads);

}  // namespace datalab::data_vault
