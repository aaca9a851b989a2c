-- user_id breaks ties, so the ten are the same on every run.
SELECT user_id, count() AS requests
FROM web_logs
GROUP BY user_id
ORDER BY requests DESC, user_id
LIMIT 10
