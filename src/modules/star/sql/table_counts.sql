SELECT t.name AS "table", t.total_rows, t.current_rows FROM (
  SELECT 'customer_dim' AS name, count(*) AS total_rows, count(*) FILTER (WHERE is_current) AS current_rows, 1 AS o FROM star.customer_dim
  UNION ALL SELECT 'product_dim', count(*), count(*) FILTER (WHERE is_current), 2 FROM star.product_dim
  UNION ALL SELECT 'sales_fact', count(*), count(*), 3 FROM star.sales_fact
) t ORDER BY t.o
