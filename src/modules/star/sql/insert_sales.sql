-- Facts from staged sales joined to the current dimension rows: the customer key comes
-- from customer_dim and the product key from product_dim, quantity and amount stay in
-- their own columns (the original swapped them). Sales already loaded are skipped.
INSERT INTO star.sales_fact (sale_id, customer_key, product_key, quantity, amount, sale_time)
SELECT s.sale_id, c.customer_key, p.product_key, s.quantity, s.amount, s.sale_time
  FROM sales_stage s
  JOIN star.customer_dim c ON c.customer_id = s.customer_id AND c.is_current
  JOIN star.product_dim p ON p.product_id = s.product_id AND p.is_current
ON CONFLICT (sale_id) DO NOTHING
