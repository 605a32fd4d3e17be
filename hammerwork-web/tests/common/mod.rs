//! What the web crate's test files share.

use hammerwork::AnyStorage;

/// Runs workers on `queues` until none of their jobs is open, the spawning
/// parents on `web_parent` (the testkit's `three` handler, children to
/// `web_child`).
pub(crate) async fn work_on(any: &AnyStorage, queues: &[&str]) {
    use hammerwork_testkit::drive::work_until_idle as work;
    let spawning = Some(("web_parent", "web_child"));
    match any {
        AnyStorage::Postgres(s) => work(s.clone(), queues, spawning).await,
        AnyStorage::MySql(s) => work(s.clone(), queues, spawning).await,
        AnyStorage::Sqlite(s) => work(s.clone(), queues, spawning).await,
        _ => unreachable!("every backend is compiled in"),
    }
}
