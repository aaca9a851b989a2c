-- $1 = seed, $2 = number of products. One to three entries per order.
INSERT INTO s3_upload.order_entry (id, order_id, product_id, quantity)
SELECT row_number() OVER (ORDER BY o.id, line),
       o.id,
       1 + (hashint8extended(o.id * 4 + line, $1::bigint + 13) & 2147483647) % $2::bigint,
       1 + (hashint8extended(o.id * 4 + line, $1::bigint + 14) & 2147483647) % 10
FROM s3_upload.orders AS o,
     generate_series(1, 1 + (hashint8extended(o.id, $1::bigint + 15) & 2147483647)::int % 3) AS line;
