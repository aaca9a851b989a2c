-- The vault is rebuilt on every `datalab run data_vault`, so a run ends in a known state;
-- loads into an existing vault are idempotent (reloading the same input adds nothing).
DROP SCHEMA IF EXISTS data_vault CASCADE;
CREATE SCHEMA data_vault;

-- Hash keys: MD5 of the normalized (trimmed, upper-cased) business key parts joined by '||'.
CREATE FUNCTION data_vault.hash_key(VARIADIC parts text[]) RETURNS char(32)
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT md5(array_to_string(ARRAY(SELECT upper(trim(p)) FROM unnest(parts) AS p), '||')) $$;
-- Hash diffs: MD5 of the trimmed attributes (case matters: a changed spelling is a change).
CREATE FUNCTION data_vault.hash_diff(VARIADIC parts text[]) RETURNS char(32)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT md5(array_to_string(ARRAY(SELECT coalesce(trim(p), '') FROM unnest(parts) AS p), '||')) $$;

-- Hubs: one row per business key, first seen at load_date from record_source.
CREATE TABLE data_vault.hub_customer (
  customer_hk char(32) PRIMARY KEY, customer_id bigint NOT NULL UNIQUE,
  load_date timestamptz NOT NULL, record_source text NOT NULL);
CREATE TABLE data_vault.hub_product (
  product_hk char(32) PRIMARY KEY, product_id bigint NOT NULL UNIQUE,
  load_date timestamptz NOT NULL, record_source text NOT NULL);
CREATE TABLE data_vault.hub_order (
  order_hk char(32) PRIMARY KEY, order_id bigint NOT NULL UNIQUE,
  load_date timestamptz NOT NULL, record_source text NOT NULL);
CREATE TABLE data_vault.hub_order_status (
  order_status_hk char(32) PRIMARY KEY, status_code text NOT NULL UNIQUE,
  load_date timestamptz NOT NULL, record_source text NOT NULL);

-- Links: one row per distinct relationship (deduplicated by their hash key).
CREATE TABLE data_vault.link_customer_order (
  customer_order_hk char(32) PRIMARY KEY,
  customer_hk char(32) NOT NULL REFERENCES data_vault.hub_customer,
  order_hk char(32) NOT NULL REFERENCES data_vault.hub_order,
  load_date timestamptz NOT NULL, record_source text NOT NULL,
  UNIQUE (customer_hk, order_hk));
CREATE TABLE data_vault.link_order_product (
  order_product_hk char(32) PRIMARY KEY,
  order_hk char(32) NOT NULL REFERENCES data_vault.hub_order,
  product_hk char(32) NOT NULL REFERENCES data_vault.hub_product,
  load_date timestamptz NOT NULL, record_source text NOT NULL,
  UNIQUE (order_hk, product_hk));
CREATE TABLE data_vault.link_order_status (
  order_status_link_hk char(32) PRIMARY KEY,
  order_hk char(32) NOT NULL REFERENCES data_vault.hub_order,
  order_status_hk char(32) NOT NULL REFERENCES data_vault.hub_order_status,
  load_date timestamptz NOT NULL, record_source text NOT NULL,
  UNIQUE (order_hk, order_status_hk));

-- Satellites: a new version only when the hash diff changes; the version it replaces
-- gets its load_end_date. The current version has load_end_date NULL.
CREATE TABLE data_vault.sat_customer (
  customer_hk char(32) NOT NULL REFERENCES data_vault.hub_customer,
  load_date timestamptz NOT NULL, load_end_date timestamptz, hash_diff char(32) NOT NULL, record_source text NOT NULL,
  name text NOT NULL, email text NOT NULL, phone text NOT NULL,
  PRIMARY KEY (customer_hk, load_date));
CREATE TABLE data_vault.sat_product (
  product_hk char(32) NOT NULL REFERENCES data_vault.hub_product,
  load_date timestamptz NOT NULL, load_end_date timestamptz, hash_diff char(32) NOT NULL, record_source text NOT NULL,
  name text NOT NULL, category text NOT NULL,
  PRIMARY KEY (product_hk, load_date));
CREATE TABLE data_vault.sat_order (
  order_hk char(32) NOT NULL REFERENCES data_vault.hub_order,
  load_date timestamptz NOT NULL, load_end_date timestamptz, hash_diff char(32) NOT NULL, record_source text NOT NULL,
  order_date date NOT NULL,
  PRIMARY KEY (order_hk, load_date));
-- Quantity and price of an order line describe the order-product link.
CREATE TABLE data_vault.sat_order_line (
  order_product_hk char(32) NOT NULL REFERENCES data_vault.link_order_product,
  load_date timestamptz NOT NULL, load_end_date timestamptz, hash_diff char(32) NOT NULL, record_source text NOT NULL,
  quantity integer NOT NULL, unit_price numeric(12,2) NOT NULL,
  PRIMARY KEY (order_product_hk, load_date));
-- When an order entered a status; the latest status is the link with the latest time.
CREATE TABLE data_vault.sat_order_status (
  order_status_link_hk char(32) NOT NULL REFERENCES data_vault.link_order_status,
  load_date timestamptz NOT NULL, load_end_date timestamptz, hash_diff char(32) NOT NULL, record_source text NOT NULL,
  status_time timestamp NOT NULL,
  PRIMARY KEY (order_status_link_hk, load_date));

-- One current version per key.
CREATE UNIQUE INDEX sat_customer_current ON data_vault.sat_customer (customer_hk) WHERE load_end_date IS NULL;
CREATE UNIQUE INDEX sat_product_current ON data_vault.sat_product (product_hk) WHERE load_end_date IS NULL;
CREATE UNIQUE INDEX sat_order_current ON data_vault.sat_order (order_hk) WHERE load_end_date IS NULL;
CREATE UNIQUE INDEX sat_order_line_current ON data_vault.sat_order_line (order_product_hk) WHERE load_end_date IS NULL;
CREATE UNIQUE INDEX sat_order_status_current ON data_vault.sat_order_status (order_status_link_hk) WHERE load_end_date IS NULL;
