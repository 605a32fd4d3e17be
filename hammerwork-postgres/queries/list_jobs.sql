SELECT *
FROM hammerwork_jobs
WHERE ($1::text IS NULL OR queue_name = $1)
  AND ($2::text IS NULL OR status = $2)
  AND ($3::uuid IS NULL OR id > $3)
  AND ($5::uuid IS NULL OR workflow_id = $5)
  AND ($6::text IS NULL OR dependency_status = $6)
ORDER BY id
LIMIT $4
