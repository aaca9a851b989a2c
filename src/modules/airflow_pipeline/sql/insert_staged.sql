-- Moves the staged rows of one file into bakery_deliveries; rows already loaded from the
-- same file (same name, fingerprint and position) are skipped, so a reload never duplicates.
-- $1 = source file name, $2 = its fingerprint
INSERT INTO airflow_pipeline.bakery_deliveries
  (delivery_id, item_type, quantity, price_per_unit, manufacture_datetime, source_file, source_fingerprint,
   source_row, upload_timestamp)
SELECT delivery_id::text, item_type::text, quantity::integer, price_per_unit::numeric(12, 2),
       manufacture_datetime::timestamp, $1, $2, source_row, now()
FROM pg_temp.delivery_stage
ON CONFLICT (source_file, source_fingerprint, source_row) DO NOTHING
