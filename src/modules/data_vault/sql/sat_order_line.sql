-- Close the current version of every key whose attributes changed in this load.
UPDATE data_vault.sat_order_line s
   SET load_end_date = $1::timestamptz
  FROM order_line_stage st
 WHERE s.order_product_hk = data_vault.hash_key(st.order_id::text, st.product_id::text)
   AND s.load_end_date IS NULL
   AND s.hash_diff <> data_vault.hash_diff(st.quantity::text, st.unit_price::text);
-- A new version for keys without a current one: new keys and the ones just closed.
INSERT INTO data_vault.sat_order_line (order_product_hk, load_date, hash_diff, record_source, quantity, unit_price)
SELECT DISTINCT ON (data_vault.hash_key(st.order_id::text, st.product_id::text)) data_vault.hash_key(st.order_id::text, st.product_id::text), $1::timestamptz, data_vault.hash_diff(st.quantity::text, st.unit_price::text), $2, st.quantity, st.unit_price
  FROM order_line_stage st
 WHERE NOT EXISTS (SELECT 1 FROM data_vault.sat_order_line s WHERE s.order_product_hk = data_vault.hash_key(st.order_id::text, st.product_id::text) AND s.load_end_date IS NULL)
 ORDER BY data_vault.hash_key(st.order_id::text, st.product_id::text)
