SELECT url, avg(response_time) AS avg_response_ms, count() AS requests
FROM web_logs
GROUP BY url
ORDER BY url
