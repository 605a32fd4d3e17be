INSERT INTO hammerwork_job_dependencies (parent_id, job_id)
SELECT * FROM UNNEST($1::uuid[], $2::uuid[])
ON CONFLICT DO NOTHING
