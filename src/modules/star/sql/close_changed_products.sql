-- SCD2 step 1 for products ($1 = round, $2 = load date).
UPDATE star.product_dim d
   SET end_date = $2::date, is_current = false
  FROM product_stage s
 WHERE s.round = $1
   AND d.product_id = s.product_id
   AND d.is_current
   AND d.row_hash <> md5(row(s.name, s.category)::text)
