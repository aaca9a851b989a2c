#pragma once
// Validation of library input batches, as the original project did it (required fields,
// extra fields dropped, exact duplicates dropped, empty values rejected, dates parsed,
// e-mail format, publication year not in the future, 0 <= available <= total copies,
// duplicate ISBNs dropped) plus the fixed loan rule: the due date must not precede the
// loan date. Pure functions: checks that need the database live in LibraryStore.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace datalab::library {

// One input row as given: field name -> raw text. A missing key is a missing field.
using RawRecord = std::map<std::string, std::string>;

struct Rejection {
  std::size_t row;     // 1-based position in the input batch
  std::string reason;  // what was wrong, naming the field and value
};

template <typename Row>
struct Validated {
  std::vector<Row> rows;                 // accepted rows, in input order
  std::vector<std::size_t> positions;    // their 1-based input positions
  std::vector<Rejection> rejected;       // every row not accepted, with its reason
  std::vector<std::string> warnings;     // e.g. extra fields that were ignored
};

struct AuthorRow {
  std::string first_name, last_name;
  int32_t birth_date;  // days since 1970-01-01
};
struct ReaderRow {
  std::string first_name, last_name, email;
  int32_t registration_date;
};
struct BookRow {
  std::string title;
  int64_t author_id;
  std::string isbn;
  int32_t publication_year;
  std::string genre;
  int32_t copies_available, total_copies;
};
struct LoanRow {
  int64_t book_id, reader_id;
  int32_t loan_date, due_date;
  std::optional<int32_t> return_date;
};

// `today` (days since 1970) bounds dates and years that must not lie in the future.
Validated<AuthorRow> validate_authors(const std::vector<RawRecord>& input, int32_t today);
Validated<ReaderRow> validate_readers(const std::vector<RawRecord>& input, int32_t today);
Validated<BookRow> validate_books(const std::vector<RawRecord>& input, int32_t today);
Validated<LoanRow> validate_loans(const std::vector<RawRecord>& input, int32_t today);

bool is_valid_email(const std::string& email);

}  // namespace datalab::library
