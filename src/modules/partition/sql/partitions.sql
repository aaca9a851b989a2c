-- Every partition of partition.orders with its bounds, its rows, its 31 December rows
-- (the day the original's bounds lost to the default partition) and its indexes.
SELECT c.relname AS partition,
       coalesce(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \(''([0-9-]+)''\)'), '') AS from_date,
       coalesce(substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \(''([0-9-]+)''\)'), '') AS to_date,
       coalesce(s.rows, 0) AS rows,
       coalesce(s.dec31_rows, 0) AS dec31_rows,
       s.first_date,
       s.last_date,
       coalesce((SELECT string_agg(x.relname, ', ' ORDER BY x.relname)
                 FROM pg_index ix JOIN pg_class x ON x.oid = ix.indexrelid
                 WHERE ix.indrelid = c.oid), '') AS indexes
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
LEFT JOIN (SELECT tableoid,
                  count(*) AS rows,
                  count(*) FILTER (WHERE extract(month FROM load_date) = 12
                                     AND extract(day FROM load_date) = 31) AS dec31_rows,
                  min(load_date) AS first_date,
                  max(load_date) AS last_date
           FROM partition.orders
           GROUP BY tableoid) s ON s.tableoid = c.oid
WHERE i.inhparent = 'partition.orders'::regclass
ORDER BY c.relname = 'orders_default', c.relname;
