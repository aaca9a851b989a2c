-- Close the current version of every key whose attributes changed in this load.
UPDATE data_vault.sat_order_status s
   SET load_end_date = $1::timestamptz
  FROM order_status_stage st
 WHERE s.order_status_link_hk = data_vault.hash_key(st.order_id::text, lower(trim(st.status)))
   AND s.load_end_date IS NULL
   AND s.hash_diff <> data_vault.hash_diff(st.status_time::text);
-- A new version for keys without a current one: new keys and the ones just closed.
INSERT INTO data_vault.sat_order_status (order_status_link_hk, load_date, hash_diff, record_source, status_time)
SELECT DISTINCT ON (data_vault.hash_key(st.order_id::text, lower(trim(st.status)))) data_vault.hash_key(st.order_id::text, lower(trim(st.status))), $1::timestamptz, data_vault.hash_diff(st.status_time::text), $2, st.status_time
  FROM order_status_stage st
 WHERE NOT EXISTS (SELECT 1 FROM data_vault.sat_order_status s WHERE s.order_status_link_hk = data_vault.hash_key(st.order_id::text, lower(trim(st.status))) AND s.load_end_date IS NULL)
 ORDER BY data_vault.hash_key(st.order_id::text, lower(trim(st.status)))
