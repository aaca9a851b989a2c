-- Orders loaded in [$1, $2): the range a partition pruning demonstration asks for.
SELECT order_id, customer_id, amount, status, load_date
FROM partition.orders
WHERE load_date >= $1::date AND load_date < $2::date
