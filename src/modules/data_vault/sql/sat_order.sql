-- Close the current version of every key whose attributes changed in this load.
UPDATE data_vault.sat_order s
   SET load_end_date = $1::timestamptz
  FROM order_stage st
 WHERE s.order_hk = data_vault.hash_key(st.order_id::text)
   AND s.load_end_date IS NULL
   AND s.hash_diff <> data_vault.hash_diff(st.order_date::text);
-- A new version for keys without a current one: new keys and the ones just closed.
INSERT INTO data_vault.sat_order (order_hk, load_date, hash_diff, record_source, order_date)
SELECT DISTINCT ON (data_vault.hash_key(st.order_id::text)) data_vault.hash_key(st.order_id::text), $1::timestamptz, data_vault.hash_diff(st.order_date::text), $2, st.order_date
  FROM order_stage st
 WHERE NOT EXISTS (SELECT 1 FROM data_vault.sat_order s WHERE s.order_hk = data_vault.hash_key(st.order_id::text) AND s.load_end_date IS NULL)
 ORDER BY data_vault.hash_key(st.order_id::text)
