-- Staged sales that found no current customer or product, with the reason ($1 = limit).
SELECT s.sale_id,
       concat_ws('; ',
         CASE WHEN c.customer_key IS NULL THEN format('customer %s does not exist', s.customer_id) END,
         CASE WHEN p.product_key IS NULL THEN format('product %s does not exist', s.product_id) END) AS reason
  FROM sales_stage s
  LEFT JOIN star.customer_dim c ON c.customer_id = s.customer_id AND c.is_current
  LEFT JOIN star.product_dim p ON p.product_id = s.product_id AND p.is_current
 WHERE c.customer_key IS NULL OR p.product_key IS NULL
 ORDER BY s.sale_id
 LIMIT $1
