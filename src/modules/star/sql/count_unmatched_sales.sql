SELECT count(*)
  FROM sales_stage s
 WHERE NOT EXISTS (SELECT 1 FROM star.customer_dim c WHERE c.customer_id = s.customer_id AND c.is_current)
    OR NOT EXISTS (SELECT 1 FROM star.product_dim p WHERE p.product_id = s.product_id AND p.is_current)
