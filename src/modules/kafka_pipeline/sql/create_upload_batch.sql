-- Per-connection staging table for one consumer batch: COPY fills it, the merge moves it
-- into flights_upload, and the rows vanish at COMMIT.
CREATE TEMPORARY TABLE IF NOT EXISTS flights_upload_batch
    (LIKE kafka_pipeline.flights_upload INCLUDING DEFAULTS) ON COMMIT DELETE ROWS
