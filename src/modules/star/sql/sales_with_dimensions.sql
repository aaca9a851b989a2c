-- Facts read back through their surrogate keys ($1 = limit).
SELECT f.sale_id, c.customer_id, c.name AS customer, p.product_id, p.name AS product, p.category,
       f.quantity, f.amount, f.sale_time
  FROM star.sales_fact f
  JOIN star.customer_dim c ON c.customer_key = f.customer_key
  JOIN star.product_dim p ON p.product_key = f.product_key
 ORDER BY f.sale_id
 LIMIT $1
