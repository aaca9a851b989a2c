#include "modules/partition/partition_layout.h"

#include <fmt/format.h>

#include "core/dates.h"
#include "storage/postgres/postgres_connection.h"

namespace datalab::partition {

std::string YearPartition::qualified_name() const {
  return quote_identifier(kSchema) + "." + quote_identifier(name);
}

std::string YearPartition::create_sql() const {
  // The bounds are dates we formatted ourselves, never user text.
  return fmt::format("CREATE TABLE {} PARTITION OF {}.{} FOR VALUES FROM ('{}') TO ('{}')", qualified_name(),
                     quote_identifier(kSchema), quote_identifier(kTable), from, to);
}

YearPartition year_partition(int year) {
  return {year, fmt::format("{}_{}", kTable, year), format_iso_date(days_from_civil(year, 1, 1)),
          format_iso_date(days_from_civil(year + 1, 1, 1))};
}

std::vector<YearPartition> year_partitions_for(int32_t from_day, int32_t to_day) {
  std::vector<YearPartition> partitions;
  if (to_day <= from_day) return partitions;
  for (int year = year_of(from_day); year <= year_of(to_day - 1); ++year) partitions.push_back(year_partition(year));
  return partitions;
}

std::vector<std::string> create_partition_statements(int32_t from_day, int32_t to_day) {
  std::vector<std::string> statements;
  for (const auto& p : year_partitions_for(from_day, to_day)) statements.push_back(p.create_sql());
  return statements;
}

}  // namespace datalab::partition
