-- Wakes the listeners of queues $2 on channel $1 when the transaction commits.
SELECT pg_notify($1, q) FROM UNNEST($2::text[]) AS t(q)
