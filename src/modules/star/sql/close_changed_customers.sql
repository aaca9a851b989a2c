-- SCD2 step 1: close the current version of every customer whose business columns
-- changed in this round ($1 = round, $2 = load date).
UPDATE star.customer_dim d
   SET end_date = $2::date, is_current = false
  FROM customer_stage s
 WHERE s.round = $1
   AND d.customer_id = s.customer_id
   AND d.is_current
   AND d.row_hash <> md5(row(s.name, s.email, s.phone)::text)
