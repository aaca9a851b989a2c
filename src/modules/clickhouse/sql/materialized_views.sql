-- Pre-aggregations for servers without projections (ClickHouse < 22.3, e.g. 18.16): each a
-- materialized view into its own table, which keeps it current on later inserts, and an
-- INSERT SELECT that backfills the rows already loaded (POPULATE cannot target a TO table).
CREATE TABLE web_logs_requests_per_day
(
    day Date,
    requests UInt64
)
ENGINE = SummingMergeTree
ORDER BY day;

CREATE MATERIALIZED VIEW web_logs_requests_per_day_mv TO web_logs_requests_per_day AS
SELECT toDate(timestamp) AS day, count() AS requests
FROM web_logs
GROUP BY day;

INSERT INTO web_logs_requests_per_day
SELECT toDate(timestamp) AS day, count() AS requests
FROM web_logs
GROUP BY day;

-- Average states (sum and count), merged at query time: an average of averages would be wrong.
CREATE TABLE web_logs_response_per_url
(
    url String,
    avg_response AggregateFunction(avg, UInt32),
    requests AggregateFunction(count)
)
ENGINE = AggregatingMergeTree
ORDER BY url;

CREATE MATERIALIZED VIEW web_logs_response_per_url_mv TO web_logs_response_per_url AS
SELECT url, avgState(response_time) AS avg_response, countState() AS requests
FROM web_logs
GROUP BY url;

INSERT INTO web_logs_response_per_url
SELECT url, avgState(response_time) AS avg_response, countState() AS requests
FROM web_logs
GROUP BY url;

CREATE TABLE web_logs_requests_per_user
(
    user_id UInt32,
    requests UInt64
)
ENGINE = SummingMergeTree
ORDER BY user_id;

CREATE MATERIALIZED VIEW web_logs_requests_per_user_mv TO web_logs_requests_per_user AS
SELECT user_id, count() AS requests
FROM web_logs
GROUP BY user_id;

INSERT INTO web_logs_requests_per_user
SELECT user_id, count() AS requests
FROM web_logs
GROUP BY user_id;
