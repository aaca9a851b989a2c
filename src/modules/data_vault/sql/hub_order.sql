INSERT INTO data_vault.hub_order (order_hk, order_id, load_date, record_source)
SELECT data_vault.hash_key(k.order_id::text), k.order_id, $1::timestamptz, $2
  FROM (SELECT order_id FROM order_stage UNION SELECT order_id FROM order_line_stage
        UNION SELECT order_id FROM order_status_stage) k
ON CONFLICT (order_hk) DO NOTHING
