DELETE FROM hammerwork_leaders WHERE role = ? AND holder = ?
