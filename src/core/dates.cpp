#include "core/dates.h"

#include <chrono>

#include <fmt/format.h>

namespace datalab {

using namespace std::chrono;

int32_t days_from_civil(int year, unsigned month, unsigned day) {
  return static_cast<int32_t>(sys_days(std::chrono::year(year) / month / day).time_since_epoch().count());
}

std::optional<int32_t> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  auto number = [&](std::size_t pos, std::size_t len) {
    int n = 0;
    for (std::size_t i = pos; i < pos + len; ++i) n = n * 10 + (text[i] - '0');
    return n;
  };
  // There is no year 0 (1 BC is followed by AD 1): PostgreSQL refuses 0000-mm-dd.
  if (number(0, 4) == 0) return std::nullopt;
  const year_month_day ymd{std::chrono::year(number(0, 4)), month(number(5, 2)), day(number(8, 2))};
  if (!ymd.ok()) return std::nullopt;
  return static_cast<int32_t>(sys_days(ymd).time_since_epoch().count());
}

std::string format_iso_date(int32_t days) {
  const year_month_day ymd{sys_days(std::chrono::days(days))};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

int year_of(int32_t days) {
  return static_cast<int>(year_month_day{sys_days(std::chrono::days(days))}.year());
}

int32_t today_utc() {
  return static_cast<int32_t>(floor<std::chrono::days>(system_clock::now()).time_since_epoch().count());
}

}  // namespace datalab
