-- Baseline (b): the server's own bulk path, INSERT ... SELECT over generate_series, into
-- the same bare tables datalab loads (create_tables.sql runs first, add_constraints.sql after).
-- psql variables: authors, books.
INSERT INTO library.authors (id, first_name, last_name, birth_date)
SELECT i, (ARRAY['James','Mary','John','Patricia','Robert','Jennifer','Michael','Linda','William','Elizabeth'])[1 + i % 10] || (i % 100),
       'Last' || (i / 100 % 100), DATE '1900-01-01' + (i / 10000)::int
FROM generate_series(1, :authors) AS i;

INSERT INTO library.books (id, title, author_id, isbn, publication_year, genre, copies_available, total_copies)
SELECT i, 'The ' || md5(i::text), 1 + floor(random() * :authors)::bigint, 'ISBN-' || i,
       1950 + floor(random() * 74)::int,
       (ARRAY['Fiction','Mystery','Science Fiction','Fantasy','Romance','Thriller','Biography','History','Poetry','Non-fiction'])[1 + i % 10],
       0, 1 + floor(random() * 10)::int
FROM generate_series(1, :books) AS i;
