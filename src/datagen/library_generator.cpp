#include "datagen/library_generator.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/dates.h"
#include "core/error.h"
#include "datagen/fake_words.h"

namespace datalab {

namespace {

using words::kAdjectives;
using words::kFirstNames;
using words::kLastNames;
using words::kNouns;

const int32_t kBirthFirst = days_from_civil(1900, 1, 1);
const int32_t kBirthLast = days_from_civil(2000, 12, 31);
constexpr uint64_t kTitlePatterns = 5;
constexpr int kLoanWindowDays = 25 * 365;

uint64_t name_space() { return kFirstNames.size() * kLastNames.size() * uint64_t(kBirthLast - kBirthFirst + 1); }
uint64_t title_space() {
  return kTitlePatterns * kAdjectives.size() * kNouns.size() * kAdjectives.size() * kNouns.size();
}

template <typename Builder>
std::shared_ptr<arrow::Array> finish(Builder& builder) {
  auto result = builder.Finish();
  if (!result.ok()) throw Error("data generation: " + result.status().ToString());
  return *result;
}

void ok(const arrow::Status& status) {
  if (!status.ok()) throw Error("data generation: " + status.ToString());
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string title_for(uint64_t book_index, const Permutation& titles) {
  const uint64_t space = titles.size();
  uint64_t code = titles(book_index % space);
  const auto a1 = kAdjectives[code % kAdjectives.size()]; code /= kAdjectives.size();
  const auto n1 = kNouns[code % kNouns.size()]; code /= kNouns.size();
  const auto a2 = kAdjectives[code % kAdjectives.size()]; code /= kAdjectives.size();
  const auto n2 = kNouns[code % kNouns.size()]; code /= kNouns.size();
  std::string title;
  switch (code) {  // code is now the pattern, < kTitlePatterns
    case 0: title = fmt::format("The {} {} of the {} {}", a1, n1, a2, n2); break;
    case 1: title = fmt::format("{} {} and the {} {}", a1, n1, a2, n2); break;
    case 2: title = fmt::format("{} {} {} for the {} {}", std::string_view("AEIOU").find(a1[0]) == std::string_view::npos ? "A" : "An", a1, n1, a2, n2); break;
    case 3: title = fmt::format("The {} {}, the {} {}", a1, n1, a2, n2); break;
    default: title = fmt::format("When the {} {} Met the {} {}", a1, n1, a2, n2); break;
  }
  // Past the title space, a volume number keeps every title unique.
  if (book_index >= space) title += fmt::format(", Volume {}", book_index / space + 1);
  return title;
}

}  // namespace

LibraryGenerator::LibraryGenerator(LibrarySizes sizes, uint64_t seed, int32_t as_of)
    : sizes_(sizes),
      seed_(seed),
      as_of_(as_of),
      author_identities_(name_space(), seed ^ 0xA11CE),
      titles_(title_space(), seed ^ 0xB00C),
      loan_pairs_(static_cast<uint64_t>(std::max<int64_t>(1, sizes.books)) *
                      static_cast<uint64_t>(std::max<int64_t>(1, sizes.readers)),
                  seed ^ 0x10A2) {
  for (auto [name, n] : {std::pair{"authors", sizes.authors}, {"books", sizes.books},
                         {"readers", sizes.readers}, {"loans", sizes.loans}}) {
    if (n < 0) throw ConfigError(fmt::format("--{} must not be negative", name));
  }
  if (sizes.books > 0 && sizes.authors == 0) throw ConfigError("books need at least one author");
  if (sizes.loans > 0 && (sizes.books == 0 || sizes.readers == 0)) {
    throw ConfigError("loans need at least one book and one reader");
  }
  if (static_cast<uint64_t>(sizes.authors) > name_space()) {
    throw ConfigError(fmt::format("at most {} distinct authors can be generated", name_space()));
  }
  if (static_cast<uint64_t>(sizes.loans) > loan_pairs_.size() && sizes.loans > 0) {
    throw ConfigError(fmt::format(
        "{} loans cannot be generated: one loan per reader and book allows at most {} x {} = {}",
        sizes.loans, sizes.books, sizes.readers, loan_pairs_.size()));
  }
}

std::shared_ptr<arrow::Schema> LibraryGenerator::authors_schema() {
  static auto schema = arrow::schema({arrow::field("id", arrow::int64(), false),
                                      arrow::field("first_name", arrow::utf8(), false),
                                      arrow::field("last_name", arrow::utf8(), false),
                                      arrow::field("birth_date", arrow::date32(), false)});
  return schema;
}

std::shared_ptr<arrow::Schema> LibraryGenerator::books_schema() {
  static auto schema = arrow::schema({arrow::field("id", arrow::int64(), false),
                                      arrow::field("title", arrow::utf8(), false),
                                      arrow::field("author_id", arrow::int64(), false),
                                      arrow::field("isbn", arrow::utf8(), false),
                                      arrow::field("publication_year", arrow::int32(), false),
                                      arrow::field("genre", arrow::utf8(), false),
                                      arrow::field("copies_available", arrow::int32(), false),
                                      arrow::field("total_copies", arrow::int32(), false)});
  return schema;
}

std::shared_ptr<arrow::Schema> LibraryGenerator::readers_schema() {
  static auto schema = arrow::schema({arrow::field("id", arrow::int64(), false),
                                      arrow::field("first_name", arrow::utf8(), false),
                                      arrow::field("last_name", arrow::utf8(), false),
                                      arrow::field("email", arrow::utf8(), false),
                                      arrow::field("registration_date", arrow::date32(), false)});
  return schema;
}

std::shared_ptr<arrow::Schema> LibraryGenerator::loans_schema() {
  static auto schema = arrow::schema({arrow::field("id", arrow::int64(), false),
                                      arrow::field("book_id", arrow::int64(), false),
                                      arrow::field("reader_id", arrow::int64(), false),
                                      arrow::field("loan_date", arrow::date32(), false),
                                      arrow::field("due_date", arrow::date32(), false),
                                      arrow::field("return_date", arrow::date32(), true)});
  return schema;
}

std::shared_ptr<arrow::RecordBatch> LibraryGenerator::authors(int64_t begin, int64_t count) const {
  arrow::Int64Builder id;
  arrow::StringBuilder first, last;
  arrow::Date32Builder birth;
  ok(id.Reserve(count)); ok(first.Reserve(count)); ok(last.Reserve(count)); ok(birth.Reserve(count));
  for (int64_t i = begin; i < begin + count; ++i) {
    uint64_t code = author_identities_(static_cast<uint64_t>(i));
    id.UnsafeAppend(i + 1);
    ok(first.Append(kFirstNames[code % kFirstNames.size()].data(), kFirstNames[code % kFirstNames.size()].size()));
    code /= kFirstNames.size();
    ok(last.Append(kLastNames[code % kLastNames.size()].data(), kLastNames[code % kLastNames.size()].size()));
    code /= kLastNames.size();
    birth.UnsafeAppend(kBirthFirst + static_cast<int32_t>(code));
  }
  return arrow::RecordBatch::Make(authors_schema(), count, {finish(id), finish(first), finish(last), finish(birth)});
}

std::shared_ptr<arrow::RecordBatch> LibraryGenerator::books(int64_t begin, int64_t count) const {
  arrow::Int64Builder id, author;
  arrow::StringBuilder title, isbn, genre;
  arrow::Int32Builder year, available, total;
  ok(id.Reserve(count)); ok(author.Reserve(count)); ok(year.Reserve(count));
  ok(available.Reserve(count)); ok(total.Reserve(count));
  ok(title.Reserve(count)); ok(title.ReserveData(count * 40));
  ok(isbn.Reserve(count)); ok(isbn.ReserveData(count * 14));
  ok(genre.Reserve(count)); ok(genre.ReserveData(count * 10));
  for (int64_t i = begin; i < begin + count; ++i) {
    // A stream per row: the same seed gives the same row whatever the batch size.
    Rng rng = Rng::for_stream(seed_ ^ 0xB00C5, static_cast<uint64_t>(i));
    id.UnsafeAppend(i + 1);
    ok(title.Append(title_for(static_cast<uint64_t>(i), titles_)));
    author.UnsafeAppend(rng.uniform(1, sizes_.authors));
    ok(isbn.Append(fmt::format("ISBN-{}", i + 1)));
    year.UnsafeAppend(static_cast<int32_t>(rng.uniform(kFirstPublicationYear, kLastPublicationYear)));
    const auto& g = rng.pick(words::kGenres);
    ok(genre.Append(g.data(), g.size()));
    const auto copies = static_cast<int32_t>(rng.uniform(1, 10));
    total.UnsafeAppend(copies);
    available.UnsafeAppend(static_cast<int32_t>(rng.uniform(0, copies)));
  }
  return arrow::RecordBatch::Make(books_schema(), count,
                                  {finish(id), finish(title), finish(author), finish(isbn), finish(year),
                                   finish(genre), finish(available), finish(total)});
}

std::shared_ptr<arrow::RecordBatch> LibraryGenerator::readers(int64_t begin, int64_t count) const {
  arrow::Int64Builder id;
  arrow::StringBuilder first, last, email;
  arrow::Date32Builder registered;
  ok(id.Reserve(count)); ok(registered.Reserve(count));
  for (int64_t i = begin; i < begin + count; ++i) {
    // A stream per row: the same seed gives the same row whatever the batch size.
    Rng rng = Rng::for_stream(seed_ ^ 0x2EAD, static_cast<uint64_t>(i));
    const auto& f = rng.pick(kFirstNames);
    const auto& l = rng.pick(kLastNames);
    id.UnsafeAppend(i + 1);
    ok(first.Append(f.data(), f.size()));
    ok(last.Append(l.data(), l.size()));
    // The reader number makes every address unique, whatever names were drawn.
    ok(email.Append(fmt::format("{}.{}{}@{}", lower(f), lower(l), i + 1, rng.pick(words::kEmailDomains))));
    registered.UnsafeAppend(as_of_ - static_cast<int32_t>(rng.uniform(0, 10 * 365)));
  }
  return arrow::RecordBatch::Make(readers_schema(), count,
                                  {finish(id), finish(first), finish(last), finish(email), finish(registered)});
}

std::shared_ptr<arrow::RecordBatch> LibraryGenerator::loans(int64_t begin, int64_t count) const {
  arrow::Int64Builder id, book, reader;
  arrow::Date32Builder loaned, due, returned;
  ok(id.Reserve(count)); ok(book.Reserve(count)); ok(reader.Reserve(count));
  ok(loaned.Reserve(count)); ok(due.Reserve(count)); ok(returned.Reserve(count));
  for (int64_t i = begin; i < begin + count; ++i) {
    // A stream per row: the same seed gives the same row whatever the batch size.
    Rng rng = Rng::for_stream(seed_ ^ 0x10A25, static_cast<uint64_t>(i));
    const uint64_t pair = loan_pairs_(static_cast<uint64_t>(i));
    id.UnsafeAppend(i + 1);
    book.UnsafeAppend(static_cast<int64_t>(pair % static_cast<uint64_t>(sizes_.books)) + 1);
    reader.UnsafeAppend(static_cast<int64_t>(pair / static_cast<uint64_t>(sizes_.books)) + 1);
    const int32_t loan_date = as_of_ - static_cast<int32_t>(rng.uniform(0, kLoanWindowDays));
    loaned.UnsafeAppend(loan_date);
    due.UnsafeAppend(loan_date + static_cast<int32_t>(rng.uniform(14, 60)));
    const bool returned_book = rng.chance(0.95);
    const int32_t return_date = loan_date + static_cast<int32_t>(rng.uniform(1, 90));
    // A return that would lie after the as-of date has not happened yet: the loan is open.
    if (returned_book && return_date <= as_of_) {
      returned.UnsafeAppend(return_date);
    } else {
      returned.UnsafeAppendNull();
    }
  }
  return arrow::RecordBatch::Make(loans_schema(), count,
                                  {finish(id), finish(book), finish(reader), finish(loaned), finish(due),
                                   finish(returned)});
}

}  // namespace datalab
