-- Week 7 target tables. Created when missing and never dropped: loads append to products; a
-- rerun replaces the rows of its own earlier load of the same object (source), so repeating a
-- run ends in the same state instead of duplicating rows.
CREATE SCHEMA IF NOT EXISTS spark_upload;

CREATE TABLE IF NOT EXISTS spark_upload.products (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    price      numeric(12, 2) NOT NULL CHECK (price >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    source     text NOT NULL  -- the Parquet object loaded (s3://bucket/key)
);

-- Every row a load did not accept, with the reason (never dropped silently).
CREATE TABLE IF NOT EXISTS spark_upload.products_rejected (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source      text NOT NULL,
    row_number  bigint,       -- 1-based row of products.parquet (native engine)
    csv_line    bigint,       -- input CSV line (lines that were not a row)
    product     text,
    price       text,
    reason      text NOT NULL,
    raw         text,         -- the malformed CSV line as read
    rejected_at timestamptz NOT NULL DEFAULT now()
);
