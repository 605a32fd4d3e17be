-- The parents of a job are read through the edge table (declared and grafted
-- dependencies alike), so it is indexed by dependent as well as by parent.
CREATE INDEX hammerwork_job_dependencies_job ON hammerwork_job_dependencies (job_id);
