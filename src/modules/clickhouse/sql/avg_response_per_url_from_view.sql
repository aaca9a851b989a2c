SELECT url, avgMerge(avg_response) AS avg_response_ms, countMerge(requests) AS requests
FROM web_logs_response_per_url
GROUP BY url
ORDER BY url
