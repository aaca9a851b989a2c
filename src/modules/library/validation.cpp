#include "modules/library/validation.h"

#include <regex>
#include <set>

#include <fmt/format.h>

#include "core/dates.h"
#include "formats/records.h"

namespace datalab::library {

namespace {

struct FieldSpec {
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// A value is shown back to the user in reasons; long ones are shortened.
std::string shown(const std::string& value) {
  return value.size() > 40 ? value.substr(0, 37) + "..." : value;
}

// Thrown inside a row check to reject the row with a reason.
struct RowError {
  std::string reason;
};

std::optional<int64_t> parse_integer(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t i = text[0] == '-' || text[0] == '+' ? 1 : 0;
  if (i == text.size()) return std::nullopt;
  for (std::size_t j = i; j < text.size(); ++j) {
    if (text[j] < '0' || text[j] > '9') return std::nullopt;
  }
  try {
    return std::stoll(text);
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

int64_t integer_field(const RawRecord& r, const std::string& name) {
  const auto value = parse_integer(r.at(name));
  if (!value) throw RowError{fmt::format("{} '{}' is not an integer", name, shown(r.at(name)))};
  return *value;
}

int64_t id_field(const RawRecord& r, const std::string& name) {
  const auto value = integer_field(r, name);
  if (value <= 0) throw RowError{fmt::format("{} {} is not a valid id", name, value)};
  return value;
}

int32_t date_field(const RawRecord& r, const std::string& name) {
  const auto value = parse_iso_date(r.at(name));
  if (!value) throw RowError{fmt::format("{} '{}' is not a date (expected YYYY-MM-DD)", name, shown(r.at(name)))};
  return *value;
}

void not_after(int32_t date, int32_t today, const std::string& name) {
  if (date > today) {
    throw RowError{fmt::format("{} {} is in the future", name, format_iso_date(date))};
  }
}

// The checks common to every table: known fields kept, extras reported, empties and
// missing fields rejected, exact duplicates dropped. Calls make_row for what is left.
template <typename Row, typename MakeRow>
Validated<Row> validate(const std::vector<RawRecord>& input, const FieldSpec& spec, MakeRow make_row) {
  Validated<Row> out;
  std::set<std::string> ignored;
  std::map<RawRecord, std::size_t> seen;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::size_t position = i + 1;
    if (auto bad = input[i].find(kMalformedRowField); bad != input[i].end()) {
      out.rejected.push_back({position, "malformed row, " + bad->second});
      continue;
    }
    RawRecord record;
    for (const auto& [key, value] : input[i]) {
      const bool known = std::find(spec.required.begin(), spec.required.end(), key) != spec.required.end() ||
                         std::find(spec.optional.begin(), spec.optional.end(), key) != spec.optional.end();
      if (known) {
        record[key] = trim(value);
      } else {
        ignored.insert(key);
      }
    }
    try {
      for (const auto& field : spec.required) {
        auto it = record.find(field);
        if (it == record.end()) throw RowError{fmt::format("missing field '{}'", field)};
        if (it->second.empty()) throw RowError{fmt::format("empty value for '{}'", field)};
      }
      if (auto [it, inserted] = seen.emplace(record, position); !inserted) {
        throw RowError{fmt::format("exact duplicate of row {}, dropped", it->second)};
      }
      out.rows.push_back(make_row(record));
      out.positions.push_back(position);
    } catch (const RowError& e) {
      out.rejected.push_back({position, e.reason});
    }
  }
  if (!ignored.empty()) {
    std::string names;
    for (const auto& name : ignored) names += (names.empty() ? "" : ", ") + name;
    out.warnings.push_back("ignored unknown field(s): " + names);
  }
  return out;
}

// Drops rows whose key repeats an earlier accepted row (e.g. a second ISBN in one batch).
template <typename Row, typename Key>
void drop_repeated_keys(Validated<Row>& v, const std::string& what, Key key_of) {
  std::map<std::string, std::size_t> first;
  Validated<Row> kept;
  kept.rejected = std::move(v.rejected);
  kept.warnings = std::move(v.warnings);
  for (std::size_t i = 0; i < v.rows.size(); ++i) {
    const std::string key = key_of(v.rows[i]);
    if (auto [it, inserted] = first.emplace(key, v.positions[i]); !inserted) {
      kept.rejected.push_back({v.positions[i], fmt::format("duplicate {} '{}' (also in row {}), dropped",
                                                            what, shown(key), it->second)});
      continue;
    }
    kept.rows.push_back(std::move(v.rows[i]));
    kept.positions.push_back(v.positions[i]);
  }
  std::sort(kept.rejected.begin(), kept.rejected.end(),
            [](const Rejection& a, const Rejection& b) { return a.row < b.row; });
  v = std::move(kept);
}

}  // namespace

bool is_valid_email(const std::string& email) {
  static const std::regex pattern(R"(^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$)");
  return email.size() <= 254 && std::regex_match(email, pattern);
}

Validated<AuthorRow> validate_authors(const std::vector<RawRecord>& input, int32_t today) {
  return validate<AuthorRow>(input, {{"first_name", "last_name", "birth_date"}, {}}, [&](const RawRecord& r) {
    AuthorRow row{r.at("first_name"), r.at("last_name"), date_field(r, "birth_date")};
    not_after(row.birth_date, today, "birth_date");
    return row;
  });
}

Validated<ReaderRow> validate_readers(const std::vector<RawRecord>& input, int32_t today) {
  auto v = validate<ReaderRow>(
      input, {{"first_name", "last_name", "email", "registration_date"}, {}}, [&](const RawRecord& r) {
        if (!is_valid_email(r.at("email"))) {
          throw RowError{fmt::format("email '{}' is not a valid address", shown(r.at("email")))};
        }
        ReaderRow row{r.at("first_name"), r.at("last_name"), r.at("email"), date_field(r, "registration_date")};
        not_after(row.registration_date, today, "registration_date");
        return row;
      });
  drop_repeated_keys(v, "email", [](const ReaderRow& row) { return row.email; });
  return v;
}

Validated<BookRow> validate_books(const std::vector<RawRecord>& input, int32_t today) {
  const int current_year = year_of(today);
  auto v = validate<BookRow>(
      input,
      {{"title", "author_id", "isbn", "publication_year", "genre", "copies_available", "total_copies"}, {}},
      [&](const RawRecord& r) {
        BookRow row;
        row.title = r.at("title");
        row.author_id = id_field(r, "author_id");
        row.isbn = r.at("isbn");
        const auto year = integer_field(r, "publication_year");
        if (year > current_year) {
          throw RowError{fmt::format("publication_year {} is in the future", year)};
        }
        if (year < 1) throw RowError{fmt::format("publication_year {} is not a valid year", year)};
        row.publication_year = static_cast<int32_t>(year);
        row.genre = r.at("genre");
        const auto available = integer_field(r, "copies_available");
        const auto total = integer_field(r, "total_copies");
        if (total < 1 || total > 1'000'000) {
          throw RowError{fmt::format("total_copies {} must be between 1 and 1000000", total)};
        }
        if (available < 0 || available > total) {
          throw RowError{fmt::format("copies_available {} must be between 0 and total_copies {}", available, total)};
        }
        row.copies_available = static_cast<int32_t>(available);
        row.total_copies = static_cast<int32_t>(total);
        return row;
      });
  drop_repeated_keys(v, "ISBN", [](const BookRow& row) { return row.isbn; });
  return v;
}

Validated<LoanRow> validate_loans(const std::vector<RawRecord>& input, int32_t today) {
  auto v = validate<LoanRow>(
      input, {{"book_id", "reader_id", "loan_date", "due_date"}, {"return_date"}}, [&](const RawRecord& r) {
        LoanRow row{id_field(r, "book_id"), id_field(r, "reader_id"), date_field(r, "loan_date"),
                    date_field(r, "due_date"), std::nullopt};
        not_after(row.loan_date, today, "loan_date");
        if (row.due_date < row.loan_date) {
          throw RowError{fmt::format("due_date {} is before loan_date {}", format_iso_date(row.due_date),
                                     format_iso_date(row.loan_date))};
        }
        if (auto it = r.find("return_date"); it != r.end() && !it->second.empty()) {
          row.return_date = date_field(r, "return_date");
          if (*row.return_date < row.loan_date) {
            throw RowError{fmt::format("return_date {} is before loan_date {}",
                                       format_iso_date(*row.return_date), format_iso_date(row.loan_date))};
          }
          not_after(*row.return_date, today, "return_date");
        }
        return row;
      });
  // One loan per reader and book (the table's unique key): a repeat in one batch is dropped.
  drop_repeated_keys(v, "reader/book pair", [](const LoanRow& row) {
    return fmt::format("reader {} / book {}", row.reader_id, row.book_id);
  });
  return v;
}

}  // namespace datalab::library
