// data_vault against the real PostgreSQL: hubs, links and versioned satellites from the
// star's shared inputs, reloads that add nothing, and the current-state query.
#include <gtest/gtest.h>

#include "inputs/star_input.h"
#include "integration/test_database.h"
#include "modules/data_vault/data_vault_sql.h"
#include "modules/data_vault/vault_loader.h"
#include "modules/erd/schema_diagram.h"
#include "storage/postgres/postgres_catalog.h"

using namespace datalab;
using inputs::fixture_input;

namespace {

class DataVaultLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<PgConnection>(test_support::test_postgres_settings());
    data_vault::recreate_vault(*db_);
  }
  long long count(const std::string& sql) { return db_->exec(sql).integer(0, 0); }
  static int64_t total_added(const std::vector<data_vault::TableChanges>& changes) {
    int64_t sum = 0;
    for (const auto& c : changes) sum += c.added + c.closed;
    return sum;
  }
  static const data_vault::TableChanges& for_table(const std::vector<data_vault::TableChanges>& changes,
                                                   const std::string& table) {
    for (const auto& c : changes) if (c.table == table) return c;
    throw std::runtime_error("no " + table);
  }
  std::unique_ptr<PgConnection> db_;
};

}  // namespace

TEST_F(DataVaultLoadTest, ChangesAddSatelliteVersionsAndReloadsAddNothing) {
  const auto loads = data_vault::vault_loads(fixture_input(), 25, 7);
  const auto first = data_vault::load_vault(*db_, loads[0], "2025-01-10 08:00:00+00");
  EXPECT_EQ(for_table(first, "hub_customer").added, 3);
  EXPECT_EQ(for_table(first, "hub_order").added, 25);
  EXPECT_EQ(total_added(data_vault::load_vault(*db_, loads[0], "2025-01-10 09:00:00+00")), 0);

  const auto second = data_vault::load_vault(*db_, loads[1], "2025-02-01 08:00:00+00");
  EXPECT_EQ(for_table(second, "hub_customer").added, 0);
  EXPECT_EQ(for_table(second, "sat_customer").added, 3);
  EXPECT_EQ(for_table(second, "sat_customer").closed, 3);
  EXPECT_EQ(for_table(second, "link_customer_order").added, 0);
  EXPECT_EQ(total_added(data_vault::load_vault(*db_, loads[1], "2025-02-02 08:00:00+00")), 0);

  // Hash keys are MD5 of the normalized business key; closed versions end when the next begins.
  EXPECT_EQ(count("SELECT count(*) FROM data_vault.hub_customer WHERE customer_hk <> md5(customer_id::text)"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM data_vault.hub_order_status WHERE order_status_hk <> md5(upper(status_code))"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM data_vault.sat_customer WHERE load_end_date = '2025-02-01 08:00:00+00'"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM data_vault.sat_customer WHERE load_end_date IS NULL "
                  "AND load_date = '2025-02-01 08:00:00+00'"),
            3);
  EXPECT_EQ(count("SELECT count(*) FROM data_vault.sat_customer"), 6);
  EXPECT_EQ(count("SELECT count(*) FROM data_vault.sat_customer WHERE record_source = 'datalab.star_input'"), 6);
  // A single attribute change adds one version, nothing else.
  auto change = loads[1];
  change.customers[0].phone = "+10000000000";
  const auto third = data_vault::load_vault(*db_, change, "2025-03-01 08:00:00+00");
  EXPECT_EQ(total_added(third), 2);
  EXPECT_EQ(for_table(third, "sat_customer").added, 1);
  EXPECT_EQ(for_table(third, "sat_customer").closed, 1);
}

TEST_F(DataVaultLoadTest, CurrentStateQueryMatchesTheSource) {
  const auto loads = data_vault::vault_loads(fixture_input(), 40, 11);
  data_vault::load_vault(*db_, loads[0], "2025-01-10 08:00:00+00");
  data_vault::load_vault(*db_, loads[1], "2025-02-01 08:00:00+00");
  const auto expected = data_vault::expected_current_orders(loads);
  const auto rows = db_->exec(data_vault::sql::current_orders, {"1000"});
  ASSERT_EQ(rows.rows(), static_cast<int>(expected.size()));
  for (int r = 0; r < rows.rows(); ++r) {
    const auto& e = expected[r];
    SCOPED_TRACE("order " + std::to_string(e.order_id));
    EXPECT_EQ(rows.integer(r, 0), e.order_id);
    EXPECT_EQ(rows.integer(r, 2), e.customer_id);
    EXPECT_EQ(rows.value(r, 3), e.customer);
    EXPECT_EQ(rows.value(r, 5), e.products);
    EXPECT_EQ(rows.value(r, 6), e.total);
    EXPECT_EQ(rows.value(r, 7), e.status);
  }
}

TEST_F(DataVaultLoadTest, ErdDerivesLinkToHubArrowsFromForeignKeys) {
  const auto dot = erd::to_dot(read_catalog_schema(*db_, "data_vault"));
  EXPECT_NE(dot.find("\"link_customer_order\":\"customer_hk__out\":e -> \"hub_customer\":\"customer_hk\":w"), std::string::npos);
  EXPECT_NE(dot.find("\"link_order_status\":\"order_status_hk__out\":e -> \"hub_order_status\":\"order_status_hk\":w"),
            std::string::npos);
  EXPECT_NE(dot.find("\"sat_order_line\":\"order_product_hk__out\":e -> \"link_order_product\":\"order_product_hk\":w"),
            std::string::npos);
}
