-- Baseline: the original project's approach, a server-side PL/pgSQL procedure that
-- generates orders with generate_series and inserts them through the partitioned parent.
-- Same layout as datalab (src/modules/partition/sql/create_tables.sql runs first), same
-- yearly partitions, same distributions (see src/datagen/order_spread_generator.cpp):
-- evenly spread load dates in id order, customers 1..100000, amounts 1.00..999.99,
-- statuses delivered 50% / shipped 20% / paid 15% / pending 10% / cancelled 5%.
-- Then the same indexes on the busy partitions (>= 100 000 rows) and ANALYZE.

DO $$
BEGIN
  FOR y IN 2015..2025 LOOP
    EXECUTE format('CREATE TABLE partition.%I PARTITION OF partition.orders FOR VALUES FROM (%L) TO (%L)',
                   'orders_' || y, make_date(y, 1, 1), make_date(y + 1, 1, 1));
  END LOOP;
END $$;

CREATE PROCEDURE partition.generate_orders(first_id bigint, n bigint, years int, start_year int)
LANGUAGE plpgsql AS $$
DECLARE
  first_day date := make_date(start_year, 1, 1);
  days int := make_date(start_year + years, 1, 1) - make_date(start_year, 1, 1);
BEGIN
  INSERT INTO partition.orders (order_id, customer_id, amount, status, load_date)
  SELECT first_id + i,
         1 + floor(random() * 100000)::int,
         (100 + floor(random() * 99900)::int) / 100.0,
         -- one draw per row: the bucket of random() among the cumulative weights
         (ARRAY['delivered', 'shipped', 'paid', 'pending', 'cancelled'])
           [width_bucket(random(), ARRAY[0, 0.5, 0.7, 0.85, 0.95]::float8[])],
         first_day + ((i - 1) * days / n)::int
  FROM generate_series(1, n) AS i;
END $$;

-- The original's four calls.
CALL partition.generate_orders(0, 1000, 10, 2015);
CALL partition.generate_orders(1000, 10000, 5, 2020);
CALL partition.generate_orders(11000, 1000000, 2, 2024);
CALL partition.generate_orders(1011000, 1000000, 1, 2025);

DO $$
DECLARE
  p record;
  n bigint;
BEGIN
  FOR p IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'partition.orders'::regclass ORDER BY c.relname LOOP
    EXECUTE format('SELECT count(*) FROM partition.%I', p.relname) INTO n;
    IF n >= 100000 THEN
      EXECUTE format('CREATE INDEX %I ON partition.%I (load_date)', p.relname || '_load_date_idx', p.relname);
    END IF;
  END LOOP;
END $$;

ANALYZE partition.orders;
