SELECT day, error_class, sum(errors) AS errors
FROM web_logs_errors_per_day
GROUP BY day, error_class
ORDER BY day, error_class
