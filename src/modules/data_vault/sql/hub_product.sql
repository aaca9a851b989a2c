INSERT INTO data_vault.hub_product (product_hk, product_id, load_date, record_source)
SELECT data_vault.hash_key(k.product_id::text), k.product_id, $1::timestamptz, $2
  FROM (SELECT product_id FROM product_stage UNION SELECT product_id FROM order_line_stage) k
ON CONFLICT (product_hk) DO NOTHING
