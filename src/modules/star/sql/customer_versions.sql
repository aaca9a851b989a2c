SELECT customer_key, customer_id, name, email, phone, row_hash, start_date, end_date, is_current
  FROM star.customer_dim ORDER BY customer_id, customer_key LIMIT $1
