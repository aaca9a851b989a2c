SELECT toDate(timestamp) AS day,
       concat(toString(intDiv(status_code, 100)), 'xx') AS error_class,
       count() AS errors
FROM web_logs
WHERE status_code BETWEEN 400 AND 599
GROUP BY day, error_class
ORDER BY day, error_class
