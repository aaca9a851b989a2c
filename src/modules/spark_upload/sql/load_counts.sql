-- What a load left in PostgreSQL: rows loaded and rejected rows by reason ($1 source).
SELECT 'loaded' AS outcome, count(*) AS rows FROM spark_upload.products WHERE source = $1
UNION ALL
SELECT 'rejected: ' || reason, count(*) FROM spark_upload.products_rejected WHERE source = $1 GROUP BY reason
ORDER BY 1;
