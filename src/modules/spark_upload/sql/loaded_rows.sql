-- The rows the last load of one source wrote ($1 source, $2 how many to show).
SELECT id, name, price, created_at
FROM spark_upload.products
WHERE source = $1
ORDER BY id
LIMIT $2::int;
