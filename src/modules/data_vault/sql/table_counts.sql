SELECT c.relname AS "table",
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM data_vault.%I', c.relname), false, true, '')))[1]::text::bigint AS rows
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'data_vault' AND c.relkind = 'r'
 ORDER BY CASE WHEN c.relname LIKE 'hub%' THEN 1 WHEN c.relname LIKE 'link%' THEN 2 ELSE 3 END, c.relname
