SELECT id, name, price::numeric(13, 2), created_at FROM s3_upload.products
