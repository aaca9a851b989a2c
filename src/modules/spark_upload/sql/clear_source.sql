-- Removes an earlier load of the same source before a rerun writes it again ($1 source).
WITH earlier_products AS (DELETE FROM spark_upload.products WHERE source = $1)
DELETE FROM spark_upload.products_rejected WHERE source = $1;
