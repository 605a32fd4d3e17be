//! The conformance suite on the in-memory backend: each test gets a storage
//! of its own.

use hammerwork_memory::MemoryStorage;
use hammerwork_testkit::provision::TestDb;

async fn storage(test: &str) -> TestDb<MemoryStorage> {
    TestDb::new(MemoryStorage::new(), test.to_string(), async {})
}

hammerwork_testkit::conformance_tests!(storage);
