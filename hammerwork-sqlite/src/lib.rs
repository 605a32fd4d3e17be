//! Embedded SQLite storage for Hammerwork (in progress).
