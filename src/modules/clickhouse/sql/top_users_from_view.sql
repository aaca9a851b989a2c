SELECT user_id, sum(requests) AS requests
FROM web_logs_requests_per_user
GROUP BY user_id
ORDER BY requests DESC, user_id
LIMIT 10
