-- Rejected rows of one source, in file order ($1 source, $2 how many to show).
SELECT coalesce(row_number::text, 'line ' || csv_line, '') AS row, product, price, reason
FROM spark_upload.products_rejected
WHERE source = $1
ORDER BY csv_line NULLS LAST, row_number NULLS LAST, id
LIMIT $2::int;
