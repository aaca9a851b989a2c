-- The partition schema, recreated on every run so that a run always ends in the same state.
-- Only the partitioned table and its default partition here: the yearly partitions are
-- created from the range of the data about to be loaded (partition_loader.cpp), and
-- indexes come after the data, on the partitions busy enough to need them.
DROP SCHEMA IF EXISTS partition CASCADE;
CREATE SCHEMA partition;

CREATE TABLE partition.orders (
    order_id     bigint NOT NULL,
    customer_id  integer NOT NULL,
    amount       numeric(12,2) NOT NULL CHECK (amount >= 0),
    status       text NOT NULL,
    load_date    date NOT NULL
) PARTITION BY RANGE (load_date);

-- Takes only rows whose year has no partition of its own.
CREATE TABLE partition.orders_default PARTITION OF partition.orders DEFAULT;
