-- The current state of every order rebuilt from the vault alone: its customer (current
-- satellite version), its products with quantities, the total, and its latest status
-- (the status link whose current satellite has the latest status_time).
WITH latest_status AS (
  SELECT DISTINCT ON (l.order_hk) l.order_hk, hs.status_code, s.status_time
    FROM data_vault.link_order_status l
    JOIN data_vault.sat_order_status s ON s.order_status_link_hk = l.order_status_link_hk AND s.load_end_date IS NULL
    JOIN data_vault.hub_order_status hs ON hs.order_status_hk = l.order_status_hk
   ORDER BY l.order_hk, s.status_time DESC, hs.status_code
), order_lines AS (
  SELECT lop.order_hk,
         string_agg(format('%s x%s', sp.name, sol.quantity), ', ' ORDER BY hp.product_id) AS products,
         sum(sol.quantity * sol.unit_price) AS total
    FROM data_vault.link_order_product lop
    JOIN data_vault.sat_order_line sol ON sol.order_product_hk = lop.order_product_hk AND sol.load_end_date IS NULL
    JOIN data_vault.hub_product hp ON hp.product_hk = lop.product_hk
    JOIN data_vault.sat_product sp ON sp.product_hk = hp.product_hk AND sp.load_end_date IS NULL
   GROUP BY lop.order_hk
)
SELECT ho.order_id, so.order_date, hc.customer_id, sc.name AS customer, sc.email,
       ol.products, ol.total, ls.status_code AS status, ls.status_time
  FROM data_vault.hub_order ho
  JOIN data_vault.sat_order so ON so.order_hk = ho.order_hk AND so.load_end_date IS NULL
  JOIN data_vault.link_customer_order lco ON lco.order_hk = ho.order_hk
  JOIN data_vault.hub_customer hc ON hc.customer_hk = lco.customer_hk
  LEFT JOIN data_vault.sat_customer sc ON sc.customer_hk = hc.customer_hk AND sc.load_end_date IS NULL
  LEFT JOIN order_lines ol ON ol.order_hk = ho.order_hk
  LEFT JOIN latest_status ls ON ls.order_hk = ho.order_hk
 ORDER BY ho.order_id
 LIMIT $1
