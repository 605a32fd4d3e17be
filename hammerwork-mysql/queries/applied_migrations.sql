-- The versions recorded in hammerwork_migrations.
SELECT version FROM hammerwork_migrations
