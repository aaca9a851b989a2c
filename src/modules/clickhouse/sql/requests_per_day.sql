SELECT toDate(timestamp) AS day, count() AS requests
FROM web_logs
GROUP BY day
ORDER BY day
