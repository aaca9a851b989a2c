-- Week 9: delivery files loaded from the object store, and the data-quality checks run on them.
CREATE SCHEMA IF NOT EXISTS airflow_pipeline;

CREATE TABLE IF NOT EXISTS airflow_pipeline.bakery_deliveries (
  id bigserial PRIMARY KEY,
  delivery_id text NOT NULL,
  item_type text NOT NULL,
  quantity integer NOT NULL CHECK (quantity >= 0),
  price_per_unit numeric(12, 2) NOT NULL CHECK (price_per_unit >= 0),
  manufacture_datetime timestamp NOT NULL,
  source_file text NOT NULL,
  -- What the file held (a hash of its Parquet footer and size): a retry of the same file
  -- is recognised, a new file that reuses a loaded file's name is a new load.
  source_fingerprint text NOT NULL DEFAULT '',
  -- Position of the row in its file (1-based): with the file's name and fingerprint, the
  -- key that makes a reload of the same file (a retry after a crash before the move)
  -- insert nothing new.
  source_row bigint NOT NULL,
  upload_timestamp timestamptz NOT NULL DEFAULT now()
);
-- Tables made before the fingerprint existed: add it, and key rows by it.
ALTER TABLE airflow_pipeline.bakery_deliveries ADD COLUMN IF NOT EXISTS source_fingerprint text NOT NULL DEFAULT '';
ALTER TABLE airflow_pipeline.bakery_deliveries DROP CONSTRAINT IF EXISTS bakery_deliveries_source_file_source_row_key;
CREATE UNIQUE INDEX IF NOT EXISTS bakery_deliveries_source_key
  ON airflow_pipeline.bakery_deliveries (source_file, source_fingerprint, source_row);
CREATE INDEX IF NOT EXISTS bakery_deliveries_delivery_idx ON airflow_pipeline.bakery_deliveries (delivery_id);

-- One row per file loaded (committed in the same transaction as its rows).
CREATE TABLE IF NOT EXISTS airflow_pipeline.uploads (
  source_file text NOT NULL,
  source_fingerprint text NOT NULL DEFAULT '',
  file_rows bigint NOT NULL,
  rows_inserted bigint NOT NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE airflow_pipeline.uploads ADD COLUMN IF NOT EXISTS source_fingerprint text NOT NULL DEFAULT '';
ALTER TABLE airflow_pipeline.uploads DROP CONSTRAINT IF EXISTS uploads_pkey;
CREATE UNIQUE INDEX IF NOT EXISTS uploads_source_key ON airflow_pipeline.uploads (source_file, source_fingerprint);

CREATE TABLE IF NOT EXISTS airflow_pipeline.data_quality_checks (
  id bigserial PRIMARY KEY,
  file_name text NOT NULL,
  source_file text NOT NULL,
  is_valid boolean NOT NULL,
  expected_rows bigint NOT NULL,
  actual_rows bigint NOT NULL,
  check_timestamp timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS data_quality_checks_time_idx ON airflow_pipeline.data_quality_checks (check_timestamp);
