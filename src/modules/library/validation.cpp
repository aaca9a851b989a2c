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
  std::vector<std::string> integers;  // fields that may be JSON numbers; the rest must be strings
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// A value is shown back to the user in reasons: shortened, and safe to print (no NUL or
// invalid UTF-8 reaches the terminal or the JSON report).
std::string shown(const std::string& value) { return printable(value, 37); }

uint64_t hash_of(std::string_view text) { return std::hash<std::string_view>{}(text); }

// Thrown inside a row check to reject the row with a reason.
struct RowError {
  std::string reason;
};

int64_t integer_field(const RawRecord& r, const std::string& name) {
  const std::string& text = r.at(name);
  std::size_t i = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  bool digits = i < text.size();
  for (std::size_t j = i; j < text.size(); ++j) digits = digits && text[j] >= '0' && text[j] <= '9';
  if (!digits) throw RowError{fmt::format("{} '{}' is not an integer", name, shown(text))};
  try {
    return std::stoll(text);
  } catch (const std::out_of_range&) {
    throw RowError{fmt::format("{} {} is out of range (at most 9223372036854775807)",
                               name, shown(text))};
  }
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
bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Bytes the database cannot store as text (NUL), that are not text (invalid UTF-8), or too
// many of them, and JSON values of the wrong type: each rejects the row, naming the field.
void check_field(const RawRecord& input, const FieldSpec& spec, const std::string& name, const std::string& value) {
  if (auto type = input.find(kJsonTypePrefix + name); type != input.end()) {
    if (type->second != "number" || !listed(spec.integers, name)) {
      throw RowError{fmt::format("{} must be a JSON {}, not {} {} ({})", name,
                                 listed(spec.integers, name) ? "integer or string" : "string",
                                 type->second == "array" || type->second == "object" ? "an" : "a", type->second,
                                 shown(value))};
    }
  }
  if (value.size() > kMaxFieldBytes) {
    throw RowError{fmt::format("{} is {} bytes, more than the {} allowed", name, value.size(), kMaxFieldBytes)};
  }
  if (value.find('\0') != std::string::npos) {
    throw RowError{fmt::format("{} contains a NUL byte ('{}')", name, shown(value))};
  }
  if (auto at = invalid_utf8_at(value)) {
    throw RowError{fmt::format("{} is not valid UTF-8 (byte 0x{:02x} at offset {}: '{}')", name,
                               input_byte_at(value, *at), *at, shown(value))};
  }
}

template <typename Row, typename MakeRow>
Validated<Row> validate(const std::vector<RawRecord>& input, const FieldSpec& spec, ValidationState& state,
                        MakeRow make_row) {
  Validated<Row> out;
  std::set<std::string> ignored;
  std::string canonical;
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::size_t position = state.offset + i + 1;
    if (auto bad = input[i].find(kMalformedRowField); bad != input[i].end()) {
      out.rejected.push_back({position, "malformed row, " + bad->second});
      continue;
    }
    RawRecord record;
    try {
      for (const auto& [key, value] : input[i]) {
        if (key.rfind(kJsonTypePrefix, 0) == 0) continue;
        if (listed(spec.required, key) || listed(spec.optional, key)) {
          check_field(input[i], spec, key, value);
          record[key] = trim(value);
        } else {
          ignored.insert(printable(key));
        }
      }
      for (const auto& field : spec.required) {
        auto it = record.find(field);
        if (it == record.end()) throw RowError{fmt::format("missing field '{}'", field)};
        if (it->second.empty()) throw RowError{fmt::format("empty value for '{}'", field)};
      }
      canonical.clear();
      for (const auto& [key, value] : record) {
        canonical += key;
        canonical += '\x1f';
        canonical += value;
        canonical += '\x1e';
      }
      if (auto [it, inserted] = state.rows_seen.emplace(hash_of(canonical), position); !inserted) {
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
  state.offset += input.size();
  return out;
}

// Drops rows whose key repeats an earlier accepted row (e.g. a second ISBN in one batch).
template <typename Row, typename Key>
void drop_repeated_keys(Validated<Row>& v, ValidationState& state, const std::string& what, Key key_of) {
  auto& first = state.keys_seen;
  Validated<Row> kept;
  kept.rejected = std::move(v.rejected);
  kept.warnings = std::move(v.warnings);
  for (std::size_t i = 0; i < v.rows.size(); ++i) {
    const std::string key = key_of(v.rows[i]);
    if (auto [it, inserted] = first.emplace(hash_of(key), v.positions[i]); !inserted) {
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
  ValidationState state;
  return validate_authors(input, today, state);
}
Validated<ReaderRow> validate_readers(const std::vector<RawRecord>& input, int32_t today) {
  ValidationState state;
  return validate_readers(input, today, state);
}
Validated<BookRow> validate_books(const std::vector<RawRecord>& input, int32_t today) {
  ValidationState state;
  return validate_books(input, today, state);
}
Validated<LoanRow> validate_loans(const std::vector<RawRecord>& input, int32_t today) {
  ValidationState state;
  return validate_loans(input, today, state);
}

Validated<AuthorRow> validate_authors(const std::vector<RawRecord>& input, int32_t today, ValidationState& state) {
  return validate<AuthorRow>(input, {{"first_name", "last_name", "birth_date"}, {}, {}}, state, [&](const RawRecord& r) {
    AuthorRow row{r.at("first_name"), r.at("last_name"), date_field(r, "birth_date")};
    not_after(row.birth_date, today, "birth_date");
    return row;
  });
}

Validated<ReaderRow> validate_readers(const std::vector<RawRecord>& input, int32_t today, ValidationState& state) {
  auto v = validate<ReaderRow>(
      input, {{"first_name", "last_name", "email", "registration_date"}, {}, {}}, state, [&](const RawRecord& r) {
        if (!is_valid_email(r.at("email"))) {
          throw RowError{fmt::format("email '{}' is not a valid address", shown(r.at("email")))};
        }
        ReaderRow row{r.at("first_name"), r.at("last_name"), r.at("email"), date_field(r, "registration_date")};
        not_after(row.registration_date, today, "registration_date");
        return row;
      });
  drop_repeated_keys(v, state, "email", [](const ReaderRow& row) { return row.email; });
  return v;
}

Validated<BookRow> validate_books(const std::vector<RawRecord>& input, int32_t today, ValidationState& state) {
  const int current_year = year_of(today);
  auto v = validate<BookRow>(
      input,
      {{"title", "author_id", "isbn", "publication_year", "genre", "copies_available", "total_copies"},
       {},
       {"author_id", "publication_year", "copies_available", "total_copies"}},
      state, [&](const RawRecord& r) {
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
  drop_repeated_keys(v, state, "ISBN", [](const BookRow& row) { return row.isbn; });
  return v;
}

Validated<LoanRow> validate_loans(const std::vector<RawRecord>& input, int32_t today, ValidationState& state) {
  auto v = validate<LoanRow>(
      input, {{"book_id", "reader_id", "loan_date", "due_date"}, {"return_date"}, {"book_id", "reader_id"}}, state,
      [&](const RawRecord& r) {
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
  drop_repeated_keys(v, state, "reader/book pair", [](const LoanRow& row) {
    return fmt::format("reader {} / book {}", row.reader_id, row.book_id);
  });
  return v;
}

}  // namespace datalab::library
