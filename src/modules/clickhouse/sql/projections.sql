-- Pre-aggregations on servers with projections (22.3+): stored inside web_logs' parts and
-- chosen by the optimizer for the unchanged queries. MATERIALIZE builds them for the parts
-- already there, as a mutation datalab waits for (system.mutations.is_done).
ALTER TABLE web_logs ADD PROJECTION requests_per_day
(
    SELECT toDate(timestamp), count()
    GROUP BY toDate(timestamp)
);

ALTER TABLE web_logs ADD PROJECTION response_per_url
(
    SELECT url, avg(response_time), count()
    GROUP BY url
);

ALTER TABLE web_logs ADD PROJECTION requests_per_user
(
    SELECT user_id, count()
    GROUP BY user_id
);

ALTER TABLE web_logs MATERIALIZE PROJECTION requests_per_day;
ALTER TABLE web_logs MATERIALIZE PROJECTION response_per_url;
ALTER TABLE web_logs MATERIALIZE PROJECTION requests_per_user;
