//! The conformance suite on SQLite: each test gets a database file of its own,
//! in a fresh directory under the system's temp dir. No server, no env var.

use hammerwork_sqlite::SqliteStorage;
use hammerwork_testkit::provision::{unique_name, TestDb};

async fn storage(test: &str) -> TestDb<SqliteStorage> {
    let dir = std::env::temp_dir().join(unique_name(test));
    std::fs::create_dir(&dir).expect("create the test's directory");
    // The WAL and shared-memory files sit beside the database file.
    let url = format!("sqlite://{}", dir.join("hammerwork.db").display());
    let storage = SqliteStorage::connect(&url).await.expect("open database");
    storage.migrate().await.expect("migrate");
    let pool = storage.pool().clone();
    let name = dir.display().to_string();
    TestDb::new(storage, name, async move {
        pool.close().await;
        std::fs::remove_dir_all(&dir).expect("remove the test's directory");
    })
}

hammerwork_testkit::conformance_tests!(storage);
