-- Each book's loans numbered in date order (window function), for the most-loaned books.
SELECT l.book_id, b.title,
       row_number() OVER (PARTITION BY l.book_id ORDER BY l.loan_date, l.id) AS loan_number,
       count(*) OVER (PARTITION BY l.book_id) AS loans_of_book,
       l.reader_id, l.loan_date, l.return_date
FROM library.loans l
JOIN library.books b ON b.id = l.book_id
WHERE l.deleted_at IS NULL
ORDER BY loans_of_book DESC, l.book_id, loan_number
LIMIT $1
