-- Keys, references and indexes, added after the bulk load.
-- Index builds sort in memory when they may: far faster than spilling to disk.
SET LOCAL maintenance_work_mem = '1GB';
ALTER TABLE library.authors
    ADD CONSTRAINT authors_name_birth_key UNIQUE (first_name, last_name, birth_date);
ALTER TABLE library.books
    ADD CONSTRAINT books_isbn_key UNIQUE (isbn),
    ADD CONSTRAINT books_author_title_year_key UNIQUE (author_id, title, publication_year),
    ADD CONSTRAINT books_author_fk FOREIGN KEY (author_id) REFERENCES library.authors (id);
ALTER TABLE library.readers
    ADD CONSTRAINT readers_email_key UNIQUE (email);
ALTER TABLE library.loans
    ADD CONSTRAINT loans_reader_book_key UNIQUE (reader_id, book_id),
    ADD CONSTRAINT loans_book_fk FOREIGN KEY (book_id) REFERENCES library.books (id),
    ADD CONSTRAINT loans_reader_fk FOREIGN KEY (reader_id) REFERENCES library.readers (id);

CREATE INDEX books_publication_year_idx ON library.books (publication_year);
-- Books by author use books_author_title_year_key, whose leading column is author_id:
-- a separate author_id index would only double the write cost.
CREATE INDEX loans_book_id_idx ON library.loans (book_id);
-- Soft-delete columns: live rows (deleted_at IS NULL) are nearly all rows, which no index
-- speeds up; these partial indexes find the deleted ones and stay as small as they are few.
CREATE INDEX authors_deleted_at_idx ON library.authors (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX books_deleted_at_idx ON library.books (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX readers_deleted_at_idx ON library.readers (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE INDEX loans_deleted_at_idx ON library.loans (deleted_at) WHERE deleted_at IS NOT NULL;

-- Ids were loaded explicitly: move each identity past them so new rows get fresh ids.
SELECT setval(pg_get_serial_sequence('library.authors', 'id'), coalesce(max(id), 0) + 1, false) FROM library.authors;
SELECT setval(pg_get_serial_sequence('library.books', 'id'), coalesce(max(id), 0) + 1, false) FROM library.books;
SELECT setval(pg_get_serial_sequence('library.readers', 'id'), coalesce(max(id), 0) + 1, false) FROM library.readers;
SELECT setval(pg_get_serial_sequence('library.loans', 'id'), coalesce(max(id), 0) + 1, false) FROM library.loans;

-- Loans per book, for the "top books per year" query; the unique index allows
-- REFRESH MATERIALIZED VIEW CONCURRENTLY.
CREATE MATERIALIZED VIEW library.book_loan_counts AS
SELECT b.id AS book_id,
       b.title,
       b.publication_year,
       a.first_name || ' ' || a.last_name AS author,
       count(*) AS loan_count
FROM library.loans l
JOIN library.books b ON b.id = l.book_id AND b.deleted_at IS NULL
JOIN library.authors a ON a.id = b.author_id
WHERE l.deleted_at IS NULL
GROUP BY b.id, b.title, b.publication_year, a.first_name, a.last_name;

CREATE UNIQUE INDEX book_loan_counts_book_id_idx ON library.book_loan_counts (book_id);
CREATE INDEX book_loan_counts_year_idx ON library.book_loan_counts (publication_year, loan_count DESC);

ANALYZE library.authors;
ANALYZE library.books;
ANALYZE library.readers;
ANALYZE library.loans;
