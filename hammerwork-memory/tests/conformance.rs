//! The conformance suite on the in-memory backend: each test gets a storage
//! of its own.

use hammerwork_memory::MemoryStorage;
use hammerwork_testkit::provision::TestDb;

async fn storage(test: &str) -> TestDb<MemoryStorage> {
    TestDb::new(MemoryStorage::new(), test.to_string(), async {})
}

hammerwork_testkit::conformance_tests!(storage);

/// A recurring series whose next occurrence is refused is backed off (1 s,
/// 2 s, 4 s ...) rather than tried every tick; the others move.
#[tokio::test]
async fn failing_series_backs_off() {
    let storage = MemoryStorage::new();
    let lenient = storage
        .clone()
        .with_limits(hammerwork_api::Limits::default().with_max_payload_bytes(4 << 20));
    hammerwork_testkit::stored::failing_series_backs_off(storage, lenient).await;
}
