#pragma once
// Calendar dates as Arrow's date32 (days since 1970-01-01), parsed and printed as ISO.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace datalab {

// Strict YYYY-MM-DD, years 0001-9999; nullopt when malformed or not a real calendar day
// (2023-02-30, or year 0000, which the calendar and PostgreSQL do not have).
std::optional<int32_t> parse_iso_date(std::string_view text);
std::string format_iso_date(int32_t days_since_epoch);
int32_t days_from_civil(int year, unsigned month, unsigned day);
int year_of(int32_t days_since_epoch);
// Today's date in UTC.
int32_t today_utc();

}  // namespace datalab
