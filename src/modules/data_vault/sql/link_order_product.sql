INSERT INTO data_vault.link_order_product (order_product_hk, order_hk, product_hk, load_date, record_source)
SELECT DISTINCT data_vault.hash_key(order_id::text, product_id::text), data_vault.hash_key(order_id::text),
       data_vault.hash_key(product_id::text), $1::timestamptz, $2
  FROM order_line_stage
ON CONFLICT (order_product_hk) DO NOTHING
