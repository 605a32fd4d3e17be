DELETE FROM hammerwork_leaders WHERE role = ?1 AND holder = ?2
