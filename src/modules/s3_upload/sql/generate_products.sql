-- $1 = number of products, $2 = seed. Values come from seeded hashes of the row number, so
-- the same seed always gives the same rows (and the server generates them in one pass).
INSERT INTO s3_upload.products (id, name, price, created_at)
SELECT g,
       (ARRAY['Classic','Organic','Smart','Compact','Deluxe','Eco','Fresh','Golden','Handmade','Instant'])
           [1 + (hashint8extended(g, $2::bigint) & 9)]
       || ' ' ||
       (ARRAY['Coffee','Bread','Lamp','Chair','Phone','Tea','Cheese','Kettle','Notebook','Backpack','Honey','Pen'])
           [1 + ((hashint8extended(g, $2::bigint + 1) & 2147483647) % 12)]
       || ' ' || g,
       (100 + (hashint8extended(g, $2::bigint + 2) & 2147483647) % 9999900) / 100.0,
       timestamp '2024-01-01' + ((hashint8extended(g, $2::bigint + 3) & 2147483647) * 14685) * interval '1 microsecond'
FROM generate_series(1, $1::bigint) AS g;
