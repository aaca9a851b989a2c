SELECT product_key, product_id, name, category, row_hash, start_date, end_date, is_current
  FROM star.product_dim ORDER BY product_id, product_key LIMIT $1
