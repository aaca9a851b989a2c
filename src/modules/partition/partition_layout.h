#pragma once
// The shape of partition.orders: one range partition per calendar year, bounded from
// 1 January to the next 1 January (the upper bound is exclusive, so 31 December belongs to
// its year — the original stopped at 31 December and lost that day to the default
// partition), plus a default partition for what has no year partition.
#include <cstdint>
#include <string>
#include <vector>

namespace datalab::partition {

inline constexpr const char* kSchema = "partition";
inline constexpr const char* kTable = "orders";
inline constexpr const char* kDefaultPartition = "orders_default";

struct YearPartition {
  int year = 0;
  std::string name;  // orders_2024
  std::string from;  // 2024-01-01, inclusive
  std::string to;    // 2025-01-01, exclusive

  std::string create_sql() const;  // CREATE TABLE ... PARTITION OF ... FOR VALUES FROM ... TO ...
  std::string qualified_name() const;
};

YearPartition year_partition(int year);
// One partition per year that has a day in [from_day, to_day) (days since 1970).
std::vector<YearPartition> year_partitions_for(int32_t from_day, int32_t to_day);
// The CREATE TABLE statements of year_partitions_for(from_day, to_day), in year order.
std::vector<std::string> create_partition_statements(int32_t from_day, int32_t to_day);

}  // namespace datalab::partition
