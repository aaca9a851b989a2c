#pragma once
// Seeded fake data for the library module, as Arrow record batches: authors, books,
// readers and loans with realistic names, sequential ISBNs and the SPEC's distributions.
// Any batch can be generated on its own (ids are positions), so generation streams with
// bounded memory and the same seed always gives the same rows.
#include <cstdint>
#include <memory>

#include <arrow/api.h>

#include "datagen/random.h"

namespace datalab {

struct LibrarySizes {
  int64_t authors = 100;
  int64_t books = 10'000;
  int64_t readers = 100;
  int64_t loans = 200;
};

class LibraryGenerator {
 public:
  // `as_of` (days since 1970) anchors loan and registration dates, so reruns match.
  LibraryGenerator(LibrarySizes sizes, uint64_t seed, int32_t as_of);

  static std::shared_ptr<arrow::Schema> authors_schema();
  static std::shared_ptr<arrow::Schema> books_schema();
  static std::shared_ptr<arrow::Schema> readers_schema();
  static std::shared_ptr<arrow::Schema> loans_schema();

  // Rows [begin, begin + count) of each table; ids are begin + 1 ...
  std::shared_ptr<arrow::RecordBatch> authors(int64_t begin, int64_t count) const;
  std::shared_ptr<arrow::RecordBatch> books(int64_t begin, int64_t count) const;
  std::shared_ptr<arrow::RecordBatch> readers(int64_t begin, int64_t count) const;
  std::shared_ptr<arrow::RecordBatch> loans(int64_t begin, int64_t count) const;

  const LibrarySizes& sizes() const { return sizes_; }

  static constexpr int kFirstPublicationYear = 1950;
  static constexpr int kLastPublicationYear = 2023;

 private:
  LibrarySizes sizes_;
  uint64_t seed_;
  int32_t as_of_;
  Permutation author_identities_;  // unique (first, last, birth date) per author
  Permutation titles_;             // unique title per book
  Permutation loan_pairs_;         // unique (book, reader) per loan
};

}  // namespace datalab
