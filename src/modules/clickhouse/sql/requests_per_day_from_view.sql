-- Parts not merged yet may hold several rows per day: sum() finishes the SummingMergeTree's work.
SELECT day, sum(requests) AS requests
FROM web_logs_requests_per_day
GROUP BY day
ORDER BY day
