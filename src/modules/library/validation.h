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
#include <unordered_map>
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

// Every field holds at most this many bytes (UTF-8): more than any name, title, ISBN or
// e-mail needs, and well under PostgreSQL's ~2700-byte limit for a unique-index entry
// (the author key holds two names). A longer field rejects its row.
inline constexpr std::size_t kMaxFieldBytes = 1000;

// What validation remembers across the batches of one input, so that duplicates are found
// however the input is cut into batches: `offset` is the number of rows before the next
// batch (positions are 1-based over the whole input); rows and keys seen are kept as
// 64-bit hashes (8 + 8 bytes and a node per row, not the text).
struct ValidationState {
  std::size_t offset = 0;
  std::unordered_map<uint64_t, std::size_t> rows_seen;  // hash of the row -> its position
  std::unordered_map<uint64_t, std::size_t> keys_seen;  // hash of the batch-unique key -> position
};

// `today` (days since 1970) bounds dates and years that must not lie in the future.
// Without a state the input is one whole batch.
Validated<AuthorRow> validate_authors(const std::vector<RawRecord>& input, int32_t today);
Validated<ReaderRow> validate_readers(const std::vector<RawRecord>& input, int32_t today);
Validated<BookRow> validate_books(const std::vector<RawRecord>& input, int32_t today);
Validated<LoanRow> validate_loans(const std::vector<RawRecord>& input, int32_t today);
Validated<AuthorRow> validate_authors(const std::vector<RawRecord>& input, int32_t today, ValidationState& state);
Validated<ReaderRow> validate_readers(const std::vector<RawRecord>& input, int32_t today, ValidationState& state);
Validated<BookRow> validate_books(const std::vector<RawRecord>& input, int32_t today, ValidationState& state);
Validated<LoanRow> validate_loans(const std::vector<RawRecord>& input, int32_t today, ValidationState& state);

bool is_valid_email(const std::string& email);

}  // namespace datalab::library
