#pragma once
// Seeded volume data for the star (and the data vault): customers and products, of which
// every tenth changes in a second round (SCD2 material), and sales over 2024 referencing
// them. Rows of any range can be generated on their own, so loads stream with bounded
// memory and the same seed always gives the same rows. Batches carry the columns of the
// star's staging tables.
#include <cstdint>
#include <memory>

#include <arrow/api.h>

namespace datalab {

struct StarSizes {
  int64_t customers = 1'000;
  int64_t products = 100;
  int64_t sales = 10'000;
};

class StarGenerator {
 public:
  StarGenerator(StarSizes sizes, uint64_t seed);

  // round, customer_id, name, email, phone
  static std::shared_ptr<arrow::Schema> customers_schema();
  // round, product_id, name, category
  static std::shared_ptr<arrow::Schema> products_schema();
  // sale_id, customer_id, product_id, quantity, amount decimal(12,2), sale_time timestamp[us]
  static std::shared_ptr<arrow::Schema> sales_schema();

  // Every `kChangeEvery`-th customer / product changes once, in round 2.
  static constexpr int64_t kChangeEvery = 10;
  int64_t rows_in_round(int64_t population, int round) const {
    return round == 1 ? population : population / kChangeEvery;
  }
  // Rows [begin, begin + count) of a round (1 = everyone, 2 = the changed ones).
  std::shared_ptr<arrow::RecordBatch> customers(int round, int64_t begin, int64_t count) const;
  std::shared_ptr<arrow::RecordBatch> products(int round, int64_t begin, int64_t count) const;
  std::shared_ptr<arrow::RecordBatch> sales(int64_t begin, int64_t count) const;

  const StarSizes& sizes() const { return sizes_; }

 private:
  StarSizes sizes_;
  uint64_t seed_;
};

}  // namespace datalab
