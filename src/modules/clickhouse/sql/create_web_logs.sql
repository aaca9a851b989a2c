-- A rerun replaces everything. The views go first: they read from web_logs, and their
-- target tables hold aggregates of the old rows.
DROP TABLE IF EXISTS web_logs_requests_per_day_mv;
DROP TABLE IF EXISTS web_logs_response_per_url_mv;
DROP TABLE IF EXISTS web_logs_errors_per_day_mv;
DROP TABLE IF EXISTS web_logs_requests_per_user_mv;
DROP TABLE IF EXISTS web_logs_requests_per_day;
DROP TABLE IF EXISTS web_logs_response_per_url;
DROP TABLE IF EXISTS web_logs_errors_per_day;
DROP TABLE IF EXISTS web_logs_requests_per_user;
DROP TABLE IF EXISTS web_logs;

-- response_time is in whole milliseconds: integer sums make averages exact, so a
-- pre-aggregated average equals the one computed from the raw rows.
CREATE TABLE web_logs
(
    timestamp DateTime,
    user_id UInt32,
    url String,
    response_time UInt32,
    status_code UInt16
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (timestamp, user_id);
