INSERT INTO data_vault.link_customer_order (customer_order_hk, customer_hk, order_hk, load_date, record_source)
SELECT DISTINCT data_vault.hash_key(customer_id::text, order_id::text), data_vault.hash_key(customer_id::text),
       data_vault.hash_key(order_id::text), $1::timestamptz, $2
  FROM order_stage
ON CONFLICT (customer_order_hk) DO NOTHING
