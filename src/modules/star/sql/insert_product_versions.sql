-- SCD2 step 2 for products: new products and those closed by step 1.
INSERT INTO star.product_dim (product_id, name, category, row_hash, start_date)
SELECT s.product_id, s.name, s.category, md5(row(s.name, s.category)::text), $2::date
  FROM product_stage s
 WHERE s.round = $1
   AND NOT EXISTS (SELECT 1 FROM star.product_dim d WHERE d.product_id = s.product_id AND d.is_current)
