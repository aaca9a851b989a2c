INSERT INTO data_vault.hub_order_status (order_status_hk, status_code, load_date, record_source)
SELECT data_vault.hash_key(k.status), k.status, $1::timestamptz, $2
  FROM (SELECT DISTINCT lower(trim(status)) AS status FROM order_status_stage) k
ON CONFLICT (order_status_hk) DO NOTHING
