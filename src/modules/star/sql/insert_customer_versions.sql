-- SCD2 step 2: a new current version for every customer without one: new customers and
-- those closed by step 1. Unchanged customers still have their current row: skipped.
INSERT INTO star.customer_dim (customer_id, name, email, phone, row_hash, start_date)
SELECT s.customer_id, s.name, s.email, s.phone, md5(row(s.name, s.email, s.phone)::text), $2::date
  FROM customer_stage s
 WHERE s.round = $1
   AND NOT EXISTS (SELECT 1 FROM star.customer_dim d WHERE d.customer_id = s.customer_id AND d.is_current)
