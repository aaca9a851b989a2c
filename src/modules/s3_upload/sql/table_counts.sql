SELECT 'products' AS "table", count(*) AS rows FROM s3_upload.products
UNION ALL SELECT 'orders', count(*) FROM s3_upload.orders
UNION ALL SELECT 'order_entry', count(*) FROM s3_upload.order_entry
