-- Close the current version of every key whose attributes changed in this load.
UPDATE data_vault.sat_product s
   SET load_end_date = $1::timestamptz
  FROM product_stage st
 WHERE s.product_hk = data_vault.hash_key(st.product_id::text)
   AND s.load_end_date IS NULL
   AND s.hash_diff <> data_vault.hash_diff(st.name, st.category);
-- A new version for keys without a current one: new keys and the ones just closed.
INSERT INTO data_vault.sat_product (product_hk, load_date, hash_diff, record_source, name, category)
SELECT DISTINCT ON (data_vault.hash_key(st.product_id::text)) data_vault.hash_key(st.product_id::text), $1::timestamptz, data_vault.hash_diff(st.name, st.category), $2, st.name, st.category
  FROM product_stage st
 WHERE NOT EXISTS (SELECT 1 FROM data_vault.sat_product s WHERE s.product_hk = data_vault.hash_key(st.product_id::text) AND s.load_end_date IS NULL)
 ORDER BY data_vault.hash_key(st.product_id::text)
