-- $1 = source file, $2 = its fingerprint, $3 = rows in the file, $4 = rows inserted by this load
INSERT INTO airflow_pipeline.uploads (source_file, source_fingerprint, file_rows, rows_inserted, uploaded_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (source_file, source_fingerprint) DO UPDATE
  SET file_rows = EXCLUDED.file_rows,
      rows_inserted = airflow_pipeline.uploads.rows_inserted + EXCLUDED.rows_inserted,
      uploaded_at = EXCLUDED.uploaded_at
