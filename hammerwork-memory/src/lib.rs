//! An in-memory Hammerwork backend, for your unit tests: no database to
//! start, and the same semantics as PostgreSQL, MySQL and SQLite, because it
//! runs the same engine (`hammerwork-engine`) over a small driver and passes
//! the same conformance suite.
//!
//! Everything lives in this process and is gone when the last clone of the
//! storage is dropped. One transaction runs at a time (the tables sit behind
//! one lock, as SQLite admits one writer); wakeups reach this process's
//! workers ([`WakeupScope::Process`](hammerwork_api::WakeupScope)).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> hammerwork_api::Result<()> {
//! use chrono::Utc;
//! use hammerwork_api::{ClaimParams, Job, Storage, DatabaseQueue};
//! use hammerwork_memory::MemoryStorage;
//!
//! let storage = MemoryStorage::new();
//! storage.enqueue(Job::new("emails", serde_json::json!({"to": "a@example.com"}))).await?;
//! let now = Utc::now();
//! let claimed = storage
//!     .claim_jobs(ClaimParams::new("emails", 10, now, now + chrono::Duration::seconds(30)))
//!     .await?;
//! assert_eq!(claimed.len(), 1);
//! # Ok(()) }
//! ```
//!
//! It is also the worked example of a driver without statements: `driver.rs`
//! (claims and reads) and `tx.rs` (the transaction primitives) implement
//! every primitive, where a SQL backend inherits most of them as statements
//! (see `hammerwork_api::driver`); the engine does the rest.

mod driver;
mod state;
mod tx;

pub use driver::MemoryDriver;
use hammerwork_engine::Engine;
pub use tx::MemoryTx;

/// Names the in-memory backend for [`SpawnHandler<Memory>`](hammerwork_api::spawn::SpawnHandler).
#[derive(Debug, Clone, Copy)]
pub struct Memory;

/// Hammerwork storage in this process's memory. Cheap to clone: clones share
/// the tables.
#[derive(Debug, Clone)]
pub struct MemoryStorage {
    engine: Engine<MemoryDriver>,
}

impl MemoryStorage {
    /// An empty storage.
    pub fn new() -> Self {
        MemoryStorage {
            engine: Engine::new(MemoryDriver::default()),
        }
    }
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

hammerwork_engine::forward_storage!(impl for MemoryStorage, engine);

impl hammerwork_api::StorageDatabase for MemoryStorage {
    type Database = Memory;
}
