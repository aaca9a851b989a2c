-- Loans with the return date filled in as due date + 7 days when the book is not back yet.
SELECT l.id, l.book_id, l.reader_id, l.loan_date, l.due_date, l.return_date,
       COALESCE(l.return_date, l.due_date + 7) AS return_or_expected,
       l.return_date IS NULL AS open
FROM library.loans l
WHERE l.deleted_at IS NULL
ORDER BY l.id
LIMIT $1
