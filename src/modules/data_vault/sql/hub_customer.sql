INSERT INTO data_vault.hub_customer (customer_hk, customer_id, load_date, record_source)
SELECT data_vault.hash_key(k.customer_id::text), k.customer_id, $1::timestamptz, $2
  FROM (SELECT customer_id FROM customer_stage UNION SELECT customer_id FROM order_stage) k
ON CONFLICT (customer_hk) DO NOTHING
