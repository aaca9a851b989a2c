#include "modules/library/library_store.h"

#include <gtest/gtest.h>

#include "core/dates.h"
#include "core/error.h"
#include "integration/test_database.h"
#include "modules/library/library_loader.h"

using namespace datalab;
using namespace datalab::library;

namespace {

const int32_t kToday = days_from_civil(2025, 6, 30);

std::string reason_for(const BatchOutcome& outcome, std::size_t row) {
  for (const auto& r : outcome.rejected) if (r.row == row) return r.reason;
  return "";
}

}  // namespace

class LibraryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<PgConnection>(test_support::test_postgres_settings());
    const LibraryGenerator generator({20, 200, 20, 50}, 42, kToday);
    recreate_and_load(*db_, generator, LoadOptions{1000, false});
    store_ = std::make_unique<LibraryStore>(*db_, kToday);
  }
  long long count(const std::string& sql) { return db_->exec(sql).integer(0, 0); }
  std::unique_ptr<PgConnection> db_;
  std::unique_ptr<LibraryStore> store_;
};

TEST_F(LibraryStoreTest, LoadedCountsAndConstraints) {
  EXPECT_EQ(count("SELECT count(*) FROM library.authors"), 20);
  EXPECT_EQ(count("SELECT count(*) FROM library.books"), 200);
  EXPECT_EQ(count("SELECT count(*) FROM library.readers"), 20);
  EXPECT_EQ(count("SELECT count(*) FROM library.loans"), 50);
  EXPECT_EQ(count("SELECT count(*) FROM library.loans WHERE due_date < loan_date"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_constraint WHERE conrelid = 'library.books'::regclass AND contype = 'u'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE schemaname = 'library' AND indexname IN "
                  "('books_publication_year_idx','loans_book_id_idx','authors_deleted_at_idx',"
                  "'books_deleted_at_idx','readers_deleted_at_idx','loans_deleted_at_idx')"),
            6);
  // Books by author are found through an index that leads with author_id.
  EXPECT_EQ(count("SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                  "AND a.attnum = i.indkey[0] WHERE i.indrelid = 'library.books'::regclass AND a.attname = 'author_id'"),
            1);
  db_->exec("UPDATE library.books SET deleted_at = now() WHERE id = 7");
  db_->exec("SET enable_seqscan = off");
  const auto plan = db_->exec("EXPLAIN SELECT id FROM library.books WHERE deleted_at IS NOT NULL");
  std::string plan_text;
  for (int r = 0; r < plan.rows(); ++r) plan_text += std::string(plan.value(r, 0)) + "\n";
  EXPECT_NE(plan_text.find("books_deleted_at_idx"), std::string::npos) << plan_text;
  db_->exec("RESET enable_seqscan");
  // The database itself refuses what validation refuses.
  EXPECT_THROW(db_->exec("INSERT INTO library.loans (book_id, reader_id, loan_date, due_date) "
                         "VALUES (1, 1, '2025-01-10', '2025-01-01')"),
               ServiceError);
  EXPECT_THROW(db_->exec("UPDATE library.books SET copies_available = total_copies + 1 WHERE id = 1"), ServiceError);
  // New rows get ids after the loaded ones.
  const auto added = store_->add_authors({{{"first_name", "New"}, {"last_name", "Author"}, {"birth_date", "1990-05-05"}}});
  ASSERT_EQ(added.inserted_ids.size(), 1u);
  EXPECT_EQ(added.inserted_ids[0], 21);
}

TEST_F(LibraryStoreTest, BadBooksAreRejectedWithReasonsAndGoodOnesKept) {
  db_->exec("UPDATE library.authors SET deleted_at = now() WHERE id = 2");
  auto book = [](std::string isbn, std::string author, std::string year, std::string available, std::string total) {
    return RawRecord{{"title", "Title " + isbn}, {"author_id", author}, {"isbn", isbn}, {"publication_year", year},
                     {"genre", "Poetry"}, {"copies_available", available}, {"total_copies", total}};
  };
  const auto outcome = store_->add_books({
      book("NEW-1", "1", "2001", "1", "2"),
      book("NEW-2", "1", "2999", "1", "2"),      // future year
      book("NEW-3", "1", "2001", "5", "2"),      // copies > total
      book("NEW-4", "999", "2001", "1", "2"),    // unknown author
      book("NEW-5", "2", "2001", "1", "2"),      // deleted author
      book("NEW-1", "3", "2002", "1", "2"),      // duplicate ISBN in the batch
      book("ISBN-1", "3", "2002", "1", "2"),     // ISBN already in the table
  });
  EXPECT_EQ(outcome.received, 7u);
  EXPECT_EQ(outcome.inserted_ids.size(), 1u);
  EXPECT_EQ(outcome.rejected.size(), 6u);
  EXPECT_NE(reason_for(outcome, 2).find("in the future"), std::string::npos);
  EXPECT_NE(reason_for(outcome, 3).find("copies_available 5"), std::string::npos);
  EXPECT_EQ(reason_for(outcome, 4), "author 999 does not exist");
  EXPECT_EQ(reason_for(outcome, 5), "author 2 is deleted");
  EXPECT_NE(reason_for(outcome, 6).find("duplicate ISBN"), std::string::npos);
  EXPECT_NE(reason_for(outcome, 7).find("already exists"), std::string::npos);
  EXPECT_EQ(count("SELECT count(*) FROM library.books"), 201);
  EXPECT_EQ(count("SELECT count(*) FROM library.books WHERE isbn = 'NEW-1' AND author_id = 1"), 1);
}

TEST_F(LibraryStoreTest, BadReadersAndLoans) {
  const auto readers = store_->add_readers({
      {{"first_name", "Ok"}, {"last_name", "Reader"}, {"email", "ok.reader@example.com"}, {"registration_date", "2024-01-01"}},
      {{"first_name", "Bad"}, {"last_name", "Email"}, {"email", "bad@"}, {"registration_date", "2024-01-01"}},
  });
  ASSERT_EQ(readers.inserted_ids.size(), 1u);
  EXPECT_NE(reason_for(readers, 2).find("not a valid address"), std::string::npos);
  const std::string reader = std::to_string(readers.inserted_ids[0]);

  db_->exec("UPDATE library.books SET deleted_at = now() WHERE id = 3");
  const auto loans = store_->add_loans({
      {{"book_id", "1"}, {"reader_id", reader}, {"loan_date", "2025-01-10"}, {"due_date", "2025-01-24"}},
      {{"book_id", "2"}, {"reader_id", reader}, {"loan_date", "2025-01-10"}, {"due_date", "2025-01-09"}},
      {{"book_id", "3"}, {"reader_id", reader}, {"loan_date", "2025-01-10"}, {"due_date", "2025-01-24"}},
      {{"book_id", "99999"}, {"reader_id", reader}, {"loan_date", "2025-01-10"}, {"due_date", "2025-01-24"}},
      {{"book_id", "4"}, {"reader_id", "99999"}, {"loan_date", "2025-01-10"}, {"due_date", "2025-01-24"}},
  });
  EXPECT_EQ(loans.inserted_ids.size(), 1u);
  EXPECT_EQ(reason_for(loans, 2), "due_date 2025-01-09 is before loan_date 2025-01-10");
  EXPECT_EQ(reason_for(loans, 3), "book 3 is deleted");
  EXPECT_EQ(reason_for(loans, 4), "book 99999 does not exist");
  EXPECT_EQ(reason_for(loans, 5), "reader 99999 does not exist");
  // The same loan again clashes with the table's one-loan-per-reader-and-book key.
  const auto again = store_->add_loans(
      {{{"book_id", "1"}, {"reader_id", reader}, {"loan_date", "2025-02-10"}, {"due_date", "2025-02-24"}}});
  EXPECT_TRUE(again.inserted_ids.empty());
  EXPECT_NE(reason_for(again, 1).find("already has a loan"), std::string::npos);
}

TEST_F(LibraryStoreTest, SqlInNamesIsStoredLiterally) {
  const std::string evil = "'); DROP TABLE library.books; --";
  const auto outcome = store_->add_authors({{{"first_name", evil}, {"last_name", "O'Brien \"x\" {a,b}"}, {"birth_date", "1970-01-01"}}});
  ASSERT_EQ(outcome.inserted_ids.size(), 1u);
  EXPECT_EQ(count("SELECT count(*) FROM library.books"), 200) << "books table is intact";
  const auto r = db_->exec("SELECT first_name, last_name FROM library.authors WHERE id = $1",
                           {std::to_string(outcome.inserted_ids[0])});
  EXPECT_EQ(r.value(0, 0), evil);
  EXPECT_EQ(r.value(0, 1), "O'Brien \"x\" {a,b}");
  EXPECT_TRUE(store_->update_reader_names(1, evil, "Reader").changed);
  EXPECT_EQ(db_->exec("SELECT first_name FROM library.readers WHERE id = 1").value(0, 0), evil);
}

TEST_F(LibraryStoreTest, SoftDeleteAndUpdateReportMissingIds) {
  const auto deleted = store_->soft_delete_book(5);
  EXPECT_TRUE(deleted.changed);
  EXPECT_EQ(count("SELECT count(*) FROM library.books WHERE id = 5 AND deleted_at IS NOT NULL"), 1);
  const auto again = store_->soft_delete_book(5);
  EXPECT_FALSE(again.changed);
  EXPECT_EQ(again.message, "book 5 was already deleted: nothing changed");
  const auto missing = store_->soft_delete_book(123456);
  EXPECT_FALSE(missing.changed);
  EXPECT_EQ(missing.message, "book 123456 does not exist: nothing deleted");
  EXPECT_EQ(count("SELECT count(*) FROM library.books"), 200) << "soft delete keeps the row";

  const auto renamed = store_->update_reader_names(2, "Grace", "Hopper");
  EXPECT_TRUE(renamed.changed);
  EXPECT_EQ(db_->exec("SELECT first_name || ' ' || last_name FROM library.readers WHERE id = 2").value(0, 0), "Grace Hopper");
  EXPECT_FALSE(store_->update_reader_names(123456, "No", "One").changed);
  EXPECT_FALSE(store_->update_reader_names(2, "", "Hopper").changed);
}

TEST_F(LibraryStoreTest, FailedLoadLeavesThePreviousStateIntact) {
  // Loans that cannot exist (more than books x readers) fail before anything changes.
  EXPECT_THROW(LibraryGenerator({1, 1, 1, 2}, 1, kToday), std::exception);
  // A load that fails inside the transaction rolls back to the previous tables.
  db_->exec("CREATE OR REPLACE FUNCTION public.datalab_fail() RETURNS event_trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX') "
            "THEN RAISE EXCEPTION 'injected failure'; END IF; END $$");
  db_->exec("CREATE EVENT TRIGGER datalab_fail_trigger ON ddl_command_end EXECUTE FUNCTION public.datalab_fail()");
  const LibraryGenerator bigger({30, 300, 30, 60}, 1, kToday);
  EXPECT_THROW(recreate_and_load(*db_, bigger, LoadOptions{1000, false}), ServiceError);
  db_->exec("DROP EVENT TRIGGER datalab_fail_trigger");
  db_->exec("DROP FUNCTION public.datalab_fail()");
  EXPECT_EQ(count("SELECT count(*) FROM library.books"), 200);
  EXPECT_EQ(count("SELECT count(*) FROM library.authors"), 20);
}
