-- The practical limit for loading web_logs: the server generates the same kind of rows
-- itself (no client, no network, no parsing). Same distributions as datalab's generator:
-- 6 months before 2025-06-30 UTC, 10 000 users, 9 URLs, log-normal response times
-- (mu 5, sigma 1.5, whole ms, Box-Muller), status codes 200 x4, 404, 500, 302, 301.
-- rand(n): the argument only keeps the calls apart, so each column draws its own number.
-- {rows} is replaced by the caller.
INSERT INTO web_logs
SELECT
    toDateTime(toDateTime('2024-12-30 00:00:00', 'UTC') + (rand64(1) % 15724800)) AS timestamp,
    toUInt32(1 + rand(2) % 10000) AS user_id,
    arrayElement(['/home', '/products', '/products/item', '/cart', '/checkout', '/login', '/logout', '/search', '/profile'],
                 rand(3) % 9 + 1) AS url,
    toUInt32(greatest(1, ceil(exp(5 + 1.5 * sqrt(-2 * log((rand(4) + 1) / 4294967297))
                                          * cos(2 * pi() * rand(5) / 4294967296))))) AS response_time,
    toUInt16(arrayElement([200, 200, 200, 200, 404, 500, 302, 301], rand(6) % 8 + 1)) AS status_code
FROM numbers({rows})
