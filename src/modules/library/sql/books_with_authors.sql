-- Books with their authors, one page at a time: keyset paging by id ($1 = last id seen).
SELECT b.id, b.title, a.first_name || ' ' || a.last_name AS author, b.isbn,
       b.publication_year AS year, b.genre, b.copies_available AS available, b.total_copies AS total
FROM library.books b
JOIN library.authors a ON a.id = b.author_id
WHERE b.deleted_at IS NULL AND b.id > $1
ORDER BY b.id
LIMIT $2
