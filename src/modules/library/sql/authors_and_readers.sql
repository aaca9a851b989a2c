-- The first N authors and the first N readers as one list of people.
(SELECT 'author' AS kind, id, first_name, last_name
 FROM library.authors WHERE deleted_at IS NULL ORDER BY id LIMIT $1)
UNION ALL
(SELECT 'reader' AS kind, id, first_name, last_name
 FROM library.readers WHERE deleted_at IS NULL ORDER BY id LIMIT $1)
ORDER BY kind, id
