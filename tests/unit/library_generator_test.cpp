#include "datagen/library_generator.h"

#include <set>

#include <gtest/gtest.h>

#include "core/dates.h"
#include "core/error.h"

using namespace datalab;

namespace {

const int32_t kAsOf = days_from_civil(2025, 6, 30);

template <typename ArrayType>
std::shared_ptr<ArrayType> col(const std::shared_ptr<arrow::RecordBatch>& b, const std::string& name) {
  return std::static_pointer_cast<ArrayType>(b->GetColumnByName(name));
}

}  // namespace

TEST(LibraryGenerator, SameSeedSameRowsWhateverTheBatching) {
  const LibraryGenerator g1({100, 5000, 100, 200}, 7, kAsOf), g2({100, 5000, 100, 200}, 7, kAsOf);
  const auto whole = g1.books(0, 5000);
  const auto part = g2.books(1234, 100);
  EXPECT_TRUE(whole->Slice(1234, 100)->Equals(*part));
  EXPECT_TRUE(g1.loans(0, 200)->Equals(*g2.loans(0, 200)));
  EXPECT_TRUE(g1.readers(0, 100)->Equals(*g2.readers(0, 100)));
  const LibraryGenerator other({100, 5000, 100, 200}, 8, kAsOf);
  EXPECT_FALSE(other.books(0, 5000)->Equals(*whole)) << "another seed gives other data";
}

TEST(LibraryGenerator, BooksFollowTheSpec) {
  const LibraryGenerator g({50, 20000, 10, 0}, 1, kAsOf);
  const auto b = g.books(0, 20000);
  ASSERT_TRUE(b->ValidateFull().ok());
  auto id = col<arrow::Int64Array>(b, "id");
  auto isbn = col<arrow::StringArray>(b, "isbn");
  auto title = col<arrow::StringArray>(b, "title");
  auto author = col<arrow::Int64Array>(b, "author_id");
  auto year = col<arrow::Int32Array>(b, "publication_year");
  auto genre = col<arrow::StringArray>(b, "genre");
  auto available = col<arrow::Int32Array>(b, "copies_available");
  auto total = col<arrow::Int32Array>(b, "total_copies");
  std::set<std::string> titles, genres;
  std::set<int> years;
  for (int64_t i = 0; i < b->num_rows(); ++i) {
    EXPECT_EQ(id->Value(i), i + 1);
    EXPECT_EQ(isbn->GetString(i), "ISBN-" + std::to_string(i + 1));
    EXPECT_GE(author->Value(i), 1);
    EXPECT_LE(author->Value(i), 50);
    EXPECT_GE(year->Value(i), 1950);
    EXPECT_LE(year->Value(i), 2023);
    EXPECT_GE(total->Value(i), 1);
    EXPECT_GE(available->Value(i), 0);
    EXPECT_LE(available->Value(i), total->Value(i));
    titles.insert(title->GetString(i));
    genres.insert(genre->GetString(i));
    years.insert(year->Value(i));
  }
  EXPECT_EQ(titles.size(), 20000u) << "titles are unique, so (author, title, year) is too";
  EXPECT_EQ(genres.size(), 10u);
  EXPECT_EQ(years.size(), 74u);
}

TEST(LibraryGenerator, AuthorsAndReadersAreUnique) {
  const LibraryGenerator g({30000, 0, 30000, 0}, 3, kAsOf);
  const auto a = g.authors(0, 30000);
  const auto r = g.readers(0, 30000);
  std::set<std::tuple<std::string, std::string, int32_t>> identities;
  std::set<std::string> emails;
  auto first = col<arrow::StringArray>(a, "first_name");
  auto last = col<arrow::StringArray>(a, "last_name");
  auto birth = col<arrow::Date32Array>(a, "birth_date");
  auto email = col<arrow::StringArray>(r, "email");
  auto registered = col<arrow::Date32Array>(r, "registration_date");
  for (int64_t i = 0; i < 30000; ++i) {
    identities.emplace(first->GetString(i), last->GetString(i), birth->Value(i));
    emails.insert(email->GetString(i));
    EXPECT_LE(registered->Value(i), kAsOf);
    EXPECT_GE(birth->Value(i), days_from_civil(1900, 1, 1));
  }
  EXPECT_EQ(identities.size(), 30000u);
  EXPECT_EQ(emails.size(), 30000u);
}

TEST(LibraryGenerator, LoansFollowTheSpec) {
  const LibraryGenerator g({10, 300, 40, 10000}, 5, kAsOf);
  const auto l = g.loans(0, 10000);
  auto book = col<arrow::Int64Array>(l, "book_id");
  auto reader = col<arrow::Int64Array>(l, "reader_id");
  auto loaned = col<arrow::Date32Array>(l, "loan_date");
  auto due = col<arrow::Date32Array>(l, "due_date");
  auto returned = col<arrow::Date32Array>(l, "return_date");
  std::set<std::pair<int64_t, int64_t>> pairs;
  int64_t open = 0;
  for (int64_t i = 0; i < l->num_rows(); ++i) {
    EXPECT_TRUE(book->Value(i) >= 1 && book->Value(i) <= 300);
    EXPECT_TRUE(reader->Value(i) >= 1 && reader->Value(i) <= 40);
    pairs.emplace(reader->Value(i), book->Value(i));
    EXPECT_LE(loaned->Value(i), kAsOf);
    EXPECT_GE(loaned->Value(i), kAsOf - 25 * 365);
    const int32_t days_due = due->Value(i) - loaned->Value(i);
    EXPECT_TRUE(days_due >= 14 && days_due <= 60) << days_due;
    if (returned->IsNull(i)) {
      ++open;
    } else {
      const int32_t days_back = returned->Value(i) - loaned->Value(i);
      EXPECT_TRUE(days_back >= 1 && days_back <= 90) << days_back;
    }
  }
  EXPECT_EQ(pairs.size(), 10000u) << "one loan per reader and book";
  EXPECT_GT(open, 300);   // ~5 % not returned
  EXPECT_LT(open, 800);
}

TEST(LibraryGenerator, RejectsImpossibleSizes) {
  EXPECT_THROW(LibraryGenerator({1, 2, 2, 5}, 1, kAsOf), ConfigError);  // 2 x 2 pairs < 5 loans
  EXPECT_THROW(LibraryGenerator({0, 2, 2, 0}, 1, kAsOf), ConfigError);  // books need authors
  EXPECT_THROW(LibraryGenerator({-1, 0, 0, 0}, 1, kAsOf), ConfigError);
}

TEST(Permutation, IsABijection) {
  for (uint64_t n : {1ull, 2ull, 10ull, 997ull, 1000ull, 4096ull}) {
    Permutation p(n, 99);
    std::set<uint64_t> seen;
    for (uint64_t i = 0; i < n; ++i) seen.insert(p(i));
    EXPECT_EQ(seen.size(), n);
    EXPECT_LT(*seen.rbegin(), n);
  }
}
