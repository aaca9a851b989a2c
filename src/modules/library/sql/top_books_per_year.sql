-- Top 3 most-loaned books per publication year, for the latest $1 years that have loans:
-- a recursive CTE walks the years, a LATERAL join picks each year's top 3 from the view.
WITH RECURSIVE years(year, first_year) AS (
    SELECT max(publication_year), max(publication_year) - $1 + 1 FROM library.book_loan_counts
    UNION ALL
    SELECT year - 1, first_year FROM years WHERE year > first_year
)
SELECT y.year, top.rank, top.book_id, top.title, top.author, top.loans
FROM years y
CROSS JOIN LATERAL (
    SELECT row_number() OVER (ORDER BY c.loan_count DESC, c.book_id) AS rank,
           c.book_id, c.title, c.author, c.loan_count AS loans
    FROM library.book_loan_counts c
    WHERE c.publication_year = y.year
    ORDER BY c.loan_count DESC, c.book_id
    LIMIT 3
) top
ORDER BY y.year DESC, top.rank
