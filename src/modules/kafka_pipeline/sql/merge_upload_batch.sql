-- A redelivered message (consumer killed after the database commit, before the offset
-- commit) finds its flight_id already there and is skipped: no duplicates.
INSERT INTO kafka_pipeline.flights_upload
SELECT * FROM flights_upload_batch
ON CONFLICT (flight_id) DO NOTHING
