#include "modules/library/validation.h"

#include <gtest/gtest.h>

#include "core/dates.h"
#include "formats/records.h"

using namespace datalab;
using namespace datalab::library;

namespace {

const int32_t kToday = days_from_civil(2025, 6, 30);

RawRecord book(std::string isbn, std::string year = "2001", std::string available = "1", std::string total = "2") {
  return {{"title", "T " + isbn}, {"author_id", "1"}, {"isbn", isbn}, {"publication_year", year},
          {"genre", "Fiction"}, {"copies_available", available}, {"total_copies", total}};
}

RawRecord loan(std::string book, std::string reader, std::string loaned, std::string due) {
  return {{"book_id", book}, {"reader_id", reader}, {"loan_date", loaned}, {"due_date", due}};
}

// The reason given for the input row at 1-based `row`, or "" when it was accepted.
template <typename Row>
std::string reason_for(const Validated<Row>& v, std::size_t row) {
  for (const auto& r : v.rejected) if (r.row == row) return r.reason;
  return "";
}

}  // namespace

TEST(Validation, AuthorsRequiredEmptyDuplicateExtraAndDates) {
  const auto v = validate_authors(
      {
          {{"first_name", "Ann"}, {"last_name", "Lee"}, {"birth_date", "1980-01-31"}, {"extra", "x"}},
          {{"first_name", "Ann"}, {"last_name", "Lee"}, {"birth_date", "1980-01-31"}},
          {{"first_name", "Bob"}, {"birth_date", "1980-01-31"}},
          {{"first_name", ""}, {"last_name", "Lee"}, {"birth_date", "1980-01-31"}},
          {{"first_name", "Cy"}, {"last_name", "Lee"}, {"birth_date", "31.01.1980"}},
          {{"first_name", "Di"}, {"last_name", "Lee"}, {"birth_date", "2023-02-29"}},
          {{"first_name", "Ed"}, {"last_name", "Lee"}, {"birth_date", "2030-01-01"}},
      },
      kToday);
  ASSERT_EQ(v.rows.size(), 1u);
  EXPECT_EQ(v.rows[0].first_name, "Ann");
  EXPECT_EQ(v.rows[0].birth_date, days_from_civil(1980, 1, 31));
  EXPECT_EQ(v.positions, std::vector<std::size_t>{1});
  EXPECT_EQ(reason_for(v, 2), "exact duplicate of row 1, dropped");
  EXPECT_EQ(reason_for(v, 3), "missing field 'last_name'");
  EXPECT_EQ(reason_for(v, 4), "empty value for 'first_name'");
  EXPECT_NE(reason_for(v, 5).find("not a date"), std::string::npos);
  EXPECT_NE(reason_for(v, 6).find("not a date"), std::string::npos);  // no 29 Feb in 2023
  EXPECT_NE(reason_for(v, 7).find("in the future"), std::string::npos);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_NE(v.warnings[0].find("extra"), std::string::npos);
  EXPECT_EQ(v.rows.size() + v.rejected.size(), 7u) << "every input row is accepted or rejected";
}

TEST(Validation, ReadersEmailFormatAndDuplicateEmails) {
  const auto v = validate_readers(
      {
          {{"first_name", "A"}, {"last_name", "B"}, {"email", "a.b@example.com"}, {"registration_date", "2024-01-01"}},
          {{"first_name", "C"}, {"last_name", "D"}, {"email", "not-an-email"}, {"registration_date", "2024-01-01"}},
          {{"first_name", "E"}, {"last_name", "F"}, {"email", "a.b@example.com"}, {"registration_date", "2024-01-02"}},
          {{"first_name", "G"}, {"last_name", "H"}, {"email", "g@h"}, {"registration_date", "2024-01-01"}},
          {{"first_name", "I"}, {"last_name", "J"}, {"email", "i@j.org"}, {"registration_date", "2099-01-01"}},
      },
      kToday);
  ASSERT_EQ(v.rows.size(), 1u);
  EXPECT_NE(reason_for(v, 2).find("not a valid address"), std::string::npos);
  EXPECT_NE(reason_for(v, 3).find("duplicate email"), std::string::npos);
  EXPECT_NE(reason_for(v, 4).find("not a valid address"), std::string::npos);
  EXPECT_NE(reason_for(v, 5).find("in the future"), std::string::npos);
}

TEST(Validation, EmailFormat) {
  EXPECT_TRUE(is_valid_email("ann.lee+books@mail.example.org"));
  EXPECT_FALSE(is_valid_email("ann@"));
  EXPECT_FALSE(is_valid_email("@example.com"));
  EXPECT_FALSE(is_valid_email("ann lee@example.com"));
  EXPECT_FALSE(is_valid_email("ann@example"));
}

TEST(Validation, BooksYearCopiesIntegersAndDuplicateIsbn) {
  const auto v = validate_books(
      {
          book("ISBN-1"),
          book("ISBN-2", "2026"),           // future (today is 2025-06-30)
          book("ISBN-3", "2001", "3", "2"), // copies available > total
          book("ISBN-4", "2001", "-1", "2"),
          book("ISBN-5", "2001", "0", "0"), // total must be >= 1
          book("ISBN-1", "1999"),           // duplicate ISBN in the batch
          book("ISBN-6", "twenty"),
          book("ISBN-7", "2025", "0", "1"), // this year is fine
      },
      kToday);
  ASSERT_EQ(v.rows.size(), 2u);
  EXPECT_EQ(v.rows[0].isbn, "ISBN-1");
  EXPECT_EQ(v.rows[1].isbn, "ISBN-7");
  EXPECT_NE(reason_for(v, 2).find("publication_year 2026 is in the future"), std::string::npos);
  EXPECT_NE(reason_for(v, 3).find("copies_available 3 must be between 0 and total_copies 2"), std::string::npos);
  EXPECT_NE(reason_for(v, 4).find("copies_available -1"), std::string::npos);
  EXPECT_NE(reason_for(v, 5).find("total_copies 0"), std::string::npos);
  EXPECT_NE(reason_for(v, 6).find("duplicate ISBN 'ISBN-1' (also in row 1)"), std::string::npos);
  EXPECT_NE(reason_for(v, 7).find("not an integer"), std::string::npos);
}

TEST(Validation, LoansDueDateMustNotPrecedeLoanDate) {
  auto with_return = loan("1", "2", "2025-01-10", "2025-01-20");
  with_return["return_date"] = "2025-01-05";
  auto open_loan = loan("3", "2", "2025-01-10", "2025-02-10");
  open_loan["return_date"] = "";  // optional: empty means not returned
  const auto v = validate_loans(
      {
          loan("1", "1", "2025-01-10", "2025-02-10"),
          loan("2", "1", "2025-01-10", "2025-01-01"),  // due before loan: the original's defect
          loan("1", "1", "2025-03-01", "2025-03-20"),  // same reader and book again
          with_return,
          loan("0", "1", "2025-01-10", "2025-02-10"),
          open_loan,
          loan("4", "1", "2025-01-10", "2025-01-10"),  // due the same day is allowed
      },
      kToday);
  ASSERT_EQ(v.rows.size(), 3u);
  EXPECT_FALSE(v.rows[1].return_date.has_value());
  EXPECT_EQ(reason_for(v, 2), "due_date 2025-01-01 is before loan_date 2025-01-10");
  EXPECT_NE(reason_for(v, 3).find("duplicate reader/book pair"), std::string::npos);
  EXPECT_EQ(reason_for(v, 4), "return_date 2025-01-05 is before loan_date 2025-01-10");
  EXPECT_NE(reason_for(v, 5).find("book_id 0 is not a valid id"), std::string::npos);
}

TEST(Validation, MalformedCsvRowsAreRejectedWithTheirReason) {
  const auto v = validate_authors(
      {{{"first_name", "Ann"}, {"last_name", "Lee"}, {"birth_date", "1980-01-31"}},
       {{"#malformed", "line 3: expected 3 fields, found 4"}}},
      kToday);
  ASSERT_EQ(v.rows.size(), 1u);
  EXPECT_EQ(reason_for(v, 2), "malformed row, line 3: expected 3 fields, found 4");
  EXPECT_TRUE(v.warnings.empty()) << "the marker is not an unknown field";
}

TEST(Validation, SqlInTextIsJustText) {
  const auto v = validate_authors(
      {{{"first_name", "'); DROP TABLE books; --"}, {"last_name", "X"}, {"birth_date", "1970-01-01"}}}, kToday);
  ASSERT_EQ(v.rows.size(), 1u);
  EXPECT_EQ(v.rows[0].first_name, "'); DROP TABLE books; --");
}

TEST(Validation, BytesTheDatabaseCannotStoreRejectTheirRowOnly) {
  auto nul = book("ISBN-2");
  nul["title"] = std::string("Nul\0Title", 9);
  auto latin1 = book("ISBN-3");
  latin1["genre"] = "Po\xe9sie";
  auto huge = book("ISBN-4");
  huge["title"] = std::string(kMaxFieldBytes + 1, 'x');
  auto longest = book("ISBN-5");
  longest["title"] = std::string(kMaxFieldBytes, 'x');
  const auto v = validate_books({book("ISBN-1"), nul, latin1, huge, longest}, kToday);
  ASSERT_EQ(v.rows.size(), 2u);
  EXPECT_EQ(v.positions, (std::vector<std::size_t>{1, 5}));
  EXPECT_EQ(reason_for(v, 2), "title contains a NUL byte ('Nul\\0Title')");
  EXPECT_EQ(reason_for(v, 3), "genre is not valid UTF-8 (byte 0xe9 at offset 2: 'Po\\xe9sie')");
  EXPECT_EQ(reason_for(v, 4), "title is 1001 bytes, more than the 1000 allowed");
}

TEST(Validation, JsonTypesMustFitTheField) {
  auto typed = [](std::string field, std::string value, std::string type) {
    auto r = book("ISBN-" + field);
    r[field] = value;
    r[std::string(kJsonTypePrefix) + field] = type;
    return r;
  };
  const auto v = validate_books({typed("title", "12", "number"), typed("genre", "{...}", "object"),
                                 typed("author_id", "1", "number"), typed("total_copies", "true", "boolean"),
                                 typed("isbn", "[...]", "array")},
                                kToday);
  ASSERT_EQ(v.rows.size(), 1u);
  EXPECT_EQ(v.positions, std::vector<std::size_t>{3}) << "a number is fine where an integer belongs";
  EXPECT_EQ(reason_for(v, 1), "title must be a JSON string, not a number (12)");
  EXPECT_EQ(reason_for(v, 2), "genre must be a JSON string, not an object ({...})");
  EXPECT_EQ(reason_for(v, 4), "total_copies must be a JSON integer or string, not a boolean (true)");
  EXPECT_EQ(reason_for(v, 5), "isbn must be a JSON string, not an array ([...])");
}

TEST(Validation, IntegersBeyondInt64AreOutOfRangeNotClamped) {
  const auto v = validate_loans({loan("9223372036854775808", "1", "2025-01-10", "2025-02-10"),
                                 loan("9223372036854775807", "1", "2025-01-10", "2025-02-10")},
                                kToday);
  EXPECT_EQ(reason_for(v, 1), "book_id 9223372036854775808 is out of range (at most 9223372036854775807)");
  ASSERT_EQ(v.rows.size(), 1u);
  EXPECT_EQ(v.rows[0].book_id, INT64_MAX);
}

TEST(Validation, DuplicatesAreFoundAcrossBatches) {
  ValidationState state;
  const auto first = validate_books({book("ISBN-1"), book("ISBN-2")}, kToday, state);
  const auto second = validate_books({book("ISBN-3"), book("ISBN-1", "1999"), book("ISBN-2")}, kToday, state);
  EXPECT_EQ(first.rows.size(), 2u);
  ASSERT_EQ(second.rows.size(), 1u);
  EXPECT_EQ(second.positions, std::vector<std::size_t>{3}) << "positions count over the whole input";
  EXPECT_EQ(reason_for(second, 4), "duplicate ISBN 'ISBN-1' (also in row 1), dropped");
  EXPECT_EQ(reason_for(second, 5), "exact duplicate of row 2, dropped");
}

TEST(Dates, YearZeroDoesNotExist) {
  EXPECT_FALSE(parse_iso_date("0000-01-01"));
  EXPECT_FALSE(parse_iso_date("0000-02-29"));
  EXPECT_EQ(parse_iso_date("0001-01-01"), days_from_civil(1, 1, 1));
  EXPECT_EQ(format_iso_date(*parse_iso_date("0001-01-01")), "0001-01-01");
}

TEST(Dates, ParseAndFormat) {
  EXPECT_EQ(parse_iso_date("1970-01-01"), 0);
  EXPECT_EQ(parse_iso_date("2000-01-01"), 10957);
  EXPECT_EQ(parse_iso_date("2024-02-29"), days_from_civil(2024, 2, 29));
  EXPECT_FALSE(parse_iso_date("2023-02-29"));
  EXPECT_FALSE(parse_iso_date("2023-13-01"));
  EXPECT_FALSE(parse_iso_date("2023-1-01"));
  EXPECT_FALSE(parse_iso_date(""));
  EXPECT_EQ(format_iso_date(days_from_civil(1999, 12, 31)), "1999-12-31");
  EXPECT_EQ(year_of(days_from_civil(1999, 12, 31)), 1999);
}
