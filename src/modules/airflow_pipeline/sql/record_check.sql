-- $1 = processed object key, $2 = source file, $3 = valid, $4 = rows in the file, $5 = rows loaded
INSERT INTO airflow_pipeline.data_quality_checks (file_name, source_file, is_valid, expected_rows, actual_rows)
VALUES ($1, $2, $3, $4, $5)
RETURNING id, check_timestamp
