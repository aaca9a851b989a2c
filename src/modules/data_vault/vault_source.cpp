#include "modules/data_vault/vault_source.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "datagen/random.h"

namespace datalab::data_vault {

namespace {

const std::vector<std::string> kDeliveredPath = {"created", "paid", "shipped", "delivered"};
const std::vector<std::string> kCancelledPath = {"created", "cancelled"};

}  // namespace

std::vector<VaultLoad> vault_loads(const inputs::StarInput& input, int64_t orders, uint64_t seed) {
  if (orders < 0) throw ConfigError("--orders must not be negative");
  std::vector<VaultLoad> loads(2);
  auto load_for = [&](int32_t round) -> VaultLoad& {
    if (static_cast<std::size_t>(round) > loads.size()) loads.resize(round);
    return loads[round - 1];
  };
  std::vector<int64_t> keys;
  for (const auto& c : input.customers) keys.push_back(c.customer_id);
  auto rounds = inputs::change_rounds(keys);
  for (std::size_t i = 0; i < input.customers.size(); ++i) load_for(rounds[i]).customers.push_back(input.customers[i]);
  keys.clear();
  for (const auto& p : input.products) keys.push_back(p.product_id);
  rounds = inputs::change_rounds(keys);
  for (std::size_t i = 0; i < input.products.size(); ++i) load_for(rounds[i]).products.push_back(input.products[i]);

  std::vector<int64_t> customers, products;
  for (const auto& c : loads[0].customers) customers.push_back(c.customer_id);
  for (const auto& p : loads[0].products) products.push_back(p.product_id);
  if (orders > 0 && (customers.empty() || products.empty())) {
    throw ConfigError("orders need at least one customer and one product in the input");
  }
  const int32_t first_day = days_from_civil(2024, 3, 1);
  for (int64_t id = 1; id <= orders; ++id) {
    Rng rng = Rng::for_stream(seed ^ 0x0DE25ULL, static_cast<uint64_t>(id));
    const OrderRecord order{id, rng.pick(customers), first_day + static_cast<int32_t>(rng.uniform(0, 180))};
    loads[0].orders.push_back(order);
    std::set<int64_t> chosen;
    const int64_t line_count = std::min<int64_t>(rng.uniform(1, 3), static_cast<int64_t>(products.size()));
    while (static_cast<int64_t>(chosen.size()) < line_count) chosen.insert(rng.pick(products));
    for (int64_t product : chosen) {
      loads[0].lines.push_back({id, product, static_cast<int32_t>(rng.uniform(1, 3)), rng.uniform(1'000, 5'000'000)});
    }
    // How far the order got; the first half of its history arrives in load 1, the rest later.
    const auto& path = rng.chance(0.2) ? kCancelledPath : kDeliveredPath;
    const auto reached = static_cast<std::size_t>(rng.uniform(1, static_cast<int64_t>(path.size())));
    int64_t time = (int64_t{order.order_date} * 86'400 + rng.uniform(8 * 3600, 20 * 3600)) * 1'000'000;
    for (std::size_t step = 0; step < reached; ++step) {
      const std::size_t load = step < (reached + 1) / 2 ? 0 : loads.size() - 1;
      loads[load].statuses.push_back({id, path[step], time});
      time += rng.uniform(1, 72) * 3'600'000'000LL;
    }
  }
  return loads;
}

std::vector<ExpectedOrder> expected_current_orders(const std::vector<VaultLoad>& loads) {
  std::map<int64_t, inputs::CustomerRecord> customers;
  std::map<int64_t, std::string> product_names;
  std::map<int64_t, OrderRecord> orders;
  std::map<int64_t, std::map<int64_t, OrderLineRecord>> lines;
  std::map<int64_t, std::pair<int64_t, std::string>> latest;
  for (const auto& load : loads) {
    for (const auto& c : load.customers) customers[c.customer_id] = c;
    for (const auto& p : load.products) product_names[p.product_id] = p.name;
    for (const auto& o : load.orders) orders.emplace(o.order_id, o);
    for (const auto& l : load.lines) lines[l.order_id][l.product_id] = l;
    for (const auto& s : load.statuses) {
      auto& best = latest[s.order_id];
      if (s.status_time_us > best.first || (s.status_time_us == best.first && s.status < best.second)) {
        best = {s.status_time_us, s.status};
      }
    }
  }
  std::vector<ExpectedOrder> expected;
  for (const auto& [id, order] : orders) {
    std::string products;
    int64_t total = 0;
    for (const auto& [product, line] : lines[id]) {
      products += (products.empty() ? "" : ", ") + fmt::format("{} x{}", product_names[product], line.quantity);
      total += line.quantity * line.unit_price_cents;
    }
    expected.push_back({id, order.customer_id, customers[order.customer_id].name, products,
                        inputs::format_cents(total), latest.count(id) ? latest[id].second : ""});
  }
  return expected;
}

}  // namespace datalab::data_vault
