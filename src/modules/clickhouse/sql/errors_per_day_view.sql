-- 4xx/5xx errors per day: a materialized view into a SummingMergeTree (on every server:
-- a projection cannot filter rows). Inserts into web_logs keep it current; the INSERT
-- SELECT backfills the rows already there.
CREATE TABLE web_logs_errors_per_day
(
    day Date,
    error_class String,
    errors UInt64
)
ENGINE = SummingMergeTree
ORDER BY (day, error_class);

CREATE MATERIALIZED VIEW web_logs_errors_per_day_mv TO web_logs_errors_per_day AS
SELECT toDate(timestamp) AS day,
       concat(toString(intDiv(status_code, 100)), 'xx') AS error_class,
       count() AS errors
FROM web_logs
WHERE status_code BETWEEN 400 AND 599
GROUP BY day, error_class;

INSERT INTO web_logs_errors_per_day
SELECT toDate(timestamp) AS day,
       concat(toString(intDiv(status_code, 100)), 'xx') AS error_class,
       count() AS errors
FROM web_logs
WHERE status_code BETWEEN 400 AND 599
GROUP BY day, error_class;
