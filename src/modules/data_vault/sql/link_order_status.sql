INSERT INTO data_vault.link_order_status (order_status_link_hk, order_hk, order_status_hk, load_date, record_source)
SELECT DISTINCT data_vault.hash_key(order_id::text, lower(trim(status))), data_vault.hash_key(order_id::text),
       data_vault.hash_key(lower(trim(status))), $1::timestamptz, $2
  FROM order_status_stage
ON CONFLICT (order_status_link_hk) DO NOTHING
