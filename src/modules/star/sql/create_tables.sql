-- The star schema is rebuilt on every run, so a run always ends in the same state.
DROP SCHEMA IF EXISTS star CASCADE;
CREATE SCHEMA star;

-- SCD type 2: one row per version of a customer. row_hash (MD5 of the business columns)
-- tells a changed row from an unchanged one; the current version ends on 9999-12-31.
CREATE TABLE star.customer_dim (
  customer_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id  bigint NOT NULL,
  name         text NOT NULL,
  email        text NOT NULL,
  phone        text NOT NULL,
  row_hash     char(32) NOT NULL,
  start_date   date NOT NULL,
  end_date     date NOT NULL DEFAULT '9999-12-31',
  is_current   boolean NOT NULL DEFAULT true,
  CONSTRAINT customer_dim_dates_ordered CHECK (end_date >= start_date),
  CONSTRAINT customer_dim_current_is_open CHECK (is_current = (end_date = DATE '9999-12-31'))
);
-- At most one current version per business key.
CREATE UNIQUE INDEX customer_dim_one_current ON star.customer_dim (customer_id) WHERE is_current;

CREATE TABLE star.product_dim (
  product_key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  product_id  bigint NOT NULL,
  name        text NOT NULL,
  category    text NOT NULL,
  row_hash    char(32) NOT NULL,
  start_date  date NOT NULL,
  end_date    date NOT NULL DEFAULT '9999-12-31',
  is_current  boolean NOT NULL DEFAULT true,
  CONSTRAINT product_dim_dates_ordered CHECK (end_date >= start_date),
  CONSTRAINT product_dim_current_is_open CHECK (is_current = (end_date = DATE '9999-12-31'))
);
CREATE UNIQUE INDEX product_dim_one_current ON star.product_dim (product_id) WHERE is_current;

-- Foreign keys and indexes are added after the bulk load (add_fact_keys.sql): checking
-- them once over the whole table is much cheaper than a trigger per row.
CREATE TABLE star.sales_fact (
  sale_id      bigint PRIMARY KEY,
  customer_key bigint NOT NULL,
  product_key  bigint NOT NULL,
  quantity     integer NOT NULL CHECK (quantity > 0),
  amount       numeric(12,2) NOT NULL CHECK (amount >= 0),
  sale_time    timestamp NOT NULL
);
