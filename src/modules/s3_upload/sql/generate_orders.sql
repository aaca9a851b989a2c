-- $1 = number of orders, $2 = seed.
INSERT INTO s3_upload.orders (id, customer_name, created_at)
SELECT g,
       (ARRAY['Anna','Boris','Chen','Dana','Elif','Farid','Greta','Hugo','Ines','Jonas'])
           [1 + (hashint8extended(g, $2::bigint + 10) & 9)] || ' #' || (1 + (hashint8extended(g, $2::bigint + 11) & 2147483647) % 5000),
       timestamp '2024-01-01' + ((hashint8extended(g, $2::bigint + 12) & 2147483647) % 31536000) * interval '1 second'
FROM generate_series(1, $1::bigint) AS g;
