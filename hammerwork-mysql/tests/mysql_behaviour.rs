//! What the conformance suite cannot see: MySQL-specific promises of
//! `MySqlStorage` (migrations, the caller's transactions, query plans).

use std::time::Duration;

use chrono::SubsecRound;

use hammerwork_api::schedule::RecurrenceSource;
use hammerwork_api::spawn::{plan_spawn, SpawnConfig, SpawnError, SpawnQuery};
use hammerwork_api::workflow::{FailurePolicy, JobGroup, WorkflowStatus};
use hammerwork_api::{
    ClaimParams, DatabaseQueue, DependencyStatus, EnqueueBatch, Error, Job, JobId, JobStatus,
    Lease, ListJobsParams, Outcome, Settlement, Storage,
};
use hammerwork_mysql::MySqlStorage;
use hammerwork_testkit::provision::{mysql_url, unique_name};
use serde_json::{json, Value};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::Row;

/// A fresh database with a storage on it (not yet migrated); `finish` drops it.
struct Db {
    storage: MySqlStorage,
    admin: MySqlPool,
    name: String,
}

impl Db {
    async fn new(test: &str) -> Db {
        let url = mysql_url();
        let name = unique_name(test);
        let admin = MySqlPoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("connect to HAMMERWORK_MYSQL_URL");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create database");
        eprintln!("test database {name}");
        let options: MySqlConnectOptions = url.parse().expect("valid mysql URL");
        let pool = MySqlPoolOptions::new()
            .max_connections(12)
            .connect_with(options.database(&name))
            .await
            .expect("connect test pool");
        let storage = MySqlStorage::from_pool(pool).await.expect("storage");
        Db {
            storage,
            admin,
            name,
        }
    }

    async fn migrated(test: &str) -> Db {
        let db = Db::new(test).await;
        db.storage.migrate().await.expect("migrate");
        db
    }

    async fn finish(self) {
        self.storage.pool().close().await;
        sqlx::raw_sql(&format!("DROP DATABASE {}", self.name))
            .execute(&self.admin)
            .await
            .expect("drop database");
    }
}

/// Migrators racing on one database take turns, record each migration once,
/// and never touch sqlx's `_sqlx_migrations`; running again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_concurrently_and_idempotently() {
    let db = Db::new("migrate_concurrently").await;
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let storage = db.storage.clone();
            tokio::spawn(async move { storage.migrate().await })
        })
        .collect();
    for racer in racers {
        racer.await.unwrap().expect("concurrent migrate");
    }
    db.storage.migrate().await.expect("migrate again");
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM hammerwork_migrations")
        .fetch_all(db.storage.pool())
        .await
        .unwrap();
    assert_eq!(versions, (1..=17).collect::<Vec<i64>>());
    let sqlx_table: Option<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'",
    )
    .fetch_optional(db.storage.pool())
    .await
    .unwrap();
    assert_eq!(sqlx_table, None);
    db.finish().await;
}

/// Jobs enqueued in the caller's transaction exist only if it commits, and
/// `notify_enqueued` wakes this process's listeners afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_jobs_in_follows_the_callers_transaction() {
    let db = Db::migrated("enqueue_in_tx").await;
    let storage = &db.storage;

    let rolled_back = [Job::new("tx", json!("rolled back"))];
    let mut tx = storage.pool().begin().await.unwrap();
    storage
        .enqueue_jobs_in(&mut tx, &rolled_back)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(storage.get_job(rolled_back[0].id).await.unwrap().is_none());

    let mut listener = storage.listen().await.unwrap().expect("a listener");
    // More than one INSERT statement's worth, in one transaction.
    let committed: Vec<Job> = (0..700).map(|i| Job::new("tx", json!(i))).collect();
    // In a spawned task: the future is `Send`.
    let spawned = {
        let (storage, committed) = (storage.clone(), committed.clone());
        tokio::spawn(async move {
            let mut tx = storage.pool().begin().await.unwrap();
            let ids = storage.enqueue_jobs_in(&mut tx, &committed).await.unwrap();
            tx.commit().await.unwrap();
            storage.notify_enqueued(&committed);
            ids
        })
    };
    assert_eq!(spawned.await.unwrap().len(), 700);
    let woke = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await;
    assert_eq!(woke, Ok(Some("tx".to_string())));
    assert_eq!(storage.queue_counts("tx").await.unwrap().pending, 700);
    db.finish().await;
}

/// A duplicate id in the last INSERT of a multi-statement batch fails the
/// whole batch, naming the id, and writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enqueue_duplicate_in_a_later_chunk_writes_nothing() {
    let db = Db::migrated("enqueue_dup_chunk").await;
    let storage = &db.storage;
    let existing = Job::new("dup", json!("first"));
    storage.enqueue(existing.clone()).await.unwrap();
    let mut batch: Vec<Job> = (0..1_300).map(|i| Job::new("dup", json!(i))).collect();
    batch.push(existing.clone());
    let result = storage.enqueue_many(batch).await;
    assert!(
        matches!(&result, Err(Error::DuplicateJob { id }) if *id == existing.id),
        "{result:?}"
    );
    assert_eq!(storage.queue_counts("dup").await.unwrap().total(), 1);
    db.finish().await;
}

/// Queue names are compared byte for byte: case and trailing spaces matter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_names_compare_byte_for_byte() {
    let db = Db::migrated("queue_bytes").await;
    let storage = &db.storage;
    for queue in ["mail", "Mail", "mail ", "mäil"] {
        storage
            .enqueue(Job::new(queue, json!(queue)))
            .await
            .unwrap();
    }
    for queue in ["mail", "Mail", "mail ", "mäil"] {
        assert_eq!(
            storage.queue_counts(queue).await.unwrap().pending,
            1,
            "{queue:?}"
        );
        let listed = storage
            .list_jobs(ListJobsParams::new().queue(queue))
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "{queue:?}");
        assert_eq!(listed[0].queue_name, queue);
    }
    db.finish().await;
}

/// A payload the server cannot store as JSON (MariaDB's JSON_VALID rejects
/// 32 levels of nesting, MySQL 100) is `InvalidPayload`, not a backend error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unstorable_json_is_invalid_payload() {
    let db = Db::migrated("deep_json").await;
    let deep = (0..120).fold(json!(1), |inner, _| Value::Array(vec![inner]));
    let result = db.storage.enqueue(Job::new("deep", deep)).await;
    assert!(
        matches!(result, Err(Error::InvalidPayload(_))),
        "{result:?}"
    );
    db.finish().await;
}

/// The claim walks the queue's ready entries of the phase index in claim
/// order: no filesort, which under FOR UPDATE would lock every ready job and
/// serialise claimers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_reads_the_ready_index_in_order() {
    let db = Db::migrated("claim_plan").await;
    let jobs: Vec<Job> = (0..200).map(|i| Job::new("plan", json!(i))).collect();
    db.storage.enqueue_many(jobs).await.unwrap();
    let claim = include_str!("../queries/claim_jobs.sql");
    let plan = sqlx::query(&format!("EXPLAIN {claim}"))
        .bind("plan".as_bytes())
        .bind(chrono::Utc::now())
        .bind("plan".as_bytes())
        .bind(10_u32)
        .fetch_one(db.storage.pool())
        .await
        .unwrap();
    let key: Option<String> = plan.try_get_unchecked("key").unwrap();
    let extra: Option<String> = plan.try_get_unchecked("Extra").unwrap();
    assert_eq!(key.as_deref(), Some("hammerwork_jobs_phase"));
    assert!(
        !extra.unwrap_or_default().contains("filesort"),
        "the claim sorts instead of reading the index in order"
    );
    db.finish().await;
}

/// Retention and counting read the phase index (migration 17), not the
/// table: pruning walks (queue, status, outside workflows) oldest first with
/// no sort, and a queue is counted from its entries alone. A status that sits
/// in two phases (pending and ready, pending and waiting on a dependency) is
/// counted and listed whole, in id order. (Listing by queue and status may
/// read the index or the table in id order, as the server's estimates say.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_and_counts_read_the_phase_index() {
    let db = Db::migrated("phase_plan").await;
    let storage = &db.storage;
    let jobs: Vec<Job> = (0..300).map(|i| Job::new("plan", json!(i))).collect();
    storage.enqueue_many(jobs).await.unwrap();
    for round in 0..3 {
        let claimed = claim(storage, "plan", 100).await;
        if round < 2 {
            for job in &claimed {
                settle_completed(storage, job).await;
            }
        }
    }
    let parent = Job::new("plan", json!("parent"));
    let child = Job::new("plan", json!("child")).depends_on(&parent.id);
    storage.enqueue_many(vec![parent, child]).await.unwrap();
    sqlx::query("ANALYZE TABLE hammerwork_jobs")
        .execute(storage.pool())
        .await
        .unwrap();
    let explain = |rows: Vec<sqlx::mysql::MySqlRow>| -> Vec<(Option<String>, Option<String>)> {
        rows.iter()
            .map(|row| {
                (
                    row.try_get_unchecked("key").unwrap(),
                    row.try_get_unchecked("Extra").unwrap(),
                )
            })
            .collect()
    };
    let prune = sqlx::query(concat!(
        "EXPLAIN ",
        include_str!("../queries/prunable_jobs.sql")
    ))
    .bind("plan".as_bytes())
    .bind("completed")
    .bind(chrono::Utc::now())
    .bind(10_u32)
    .fetch_all(storage.pool())
    .await
    .unwrap();
    let prune = explain(prune);
    assert_eq!(
        prune[0].0.as_deref(),
        Some("hammerwork_jobs_phase"),
        "{prune:?}"
    );
    assert!(
        !prune[0].1.as_deref().unwrap_or("").contains("filesort"),
        "pruning sorts: {prune:?}"
    );
    let counts = sqlx::query(&format!(
        "EXPLAIN {}",
        plain(include_str!("../queries/queue_counts.sql"))
    ))
    .bind("plan".as_bytes())
    .bind("plan".as_bytes())
    .fetch_all(storage.pool())
    .await
    .unwrap();
    for (key, extra) in explain(counts) {
        assert_eq!(key.as_deref(), Some("hammerwork_jobs_phase"));
        assert!(
            extra.unwrap_or_default().contains("Using index"),
            "reads rows"
        );
    }
    let counts = storage.queue_counts("plan").await.unwrap();
    assert_eq!(
        (counts.pending, counts.running, counts.completed),
        (2, 100, 200)
    );
    for (status, expected) in [
        (JobStatus::Pending, 2),
        (JobStatus::Running, 100),
        (JobStatus::Completed, 200),
    ] {
        let listed = storage
            .list_jobs(
                ListJobsParams::new()
                    .queue("plan")
                    .status(status)
                    .limit(1000),
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), expected, "{status:?}");
        assert!(
            listed.windows(2).all(|w| w[0].id < w[1].id),
            "{status:?} not in id order"
        );
    }
    db.finish().await;
}

/// The rescuer finds running jobs per queue from the phase index (the queues
/// by a loose scan of it), not the finished ones, since no lease
/// index moves at each claim, settle and heartbeat (migration 16); and it
/// still finds an expired lease among finished jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescue_reads_running_jobs_per_queue() {
    let db = Db::migrated("rescue_plan").await;
    let jobs: Vec<Job> = (0..200).map(|i| Job::new("plan", json!(i))).collect();
    db.storage.enqueue_many(jobs).await.unwrap();
    for job in claim(&db.storage, "plan", 100).await {
        settle_completed(&db.storage, &job).await;
    }
    sqlx::query("ANALYZE TABLE hammerwork_jobs")
        .execute(db.storage.pool())
        .await
        .unwrap();
    let rescue = include_str!("../queries/rescue_candidates.sql");
    let rows = sqlx::query(&format!("EXPLAIN {rescue}"))
        .bind(chrono::Utc::now())
        .bind(1000_u32)
        .fetch_all(db.storage.pool())
        .await
        .unwrap();
    let plan: Vec<(Option<String>, Option<String>, Option<String>)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get_unchecked("table").unwrap(),
                row.try_get_unchecked("key").unwrap(),
                row.try_get_unchecked("Extra").unwrap(),
            )
        })
        .collect();
    assert!(
        plan.iter()
            .any(|(table, key, _)| table.as_deref() == Some("j")
                && key.as_deref() == Some("hammerwork_jobs_phase")),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .any(|(_, _, extra)| extra.as_deref().unwrap_or("").contains("for group-by")),
        "the queues are not read by a loose index scan: {plan:?}"
    );
    let now = chrono::Utc::now();
    let expired = db
        .storage
        .claim_jobs(ClaimParams::new("plan", 1, now, now))
        .await
        .unwrap();
    let later = now + chrono::Duration::seconds(1);
    assert_eq!(db.storage.rescue_expired_jobs(later).await.unwrap(), 1);
    let rescued = db.storage.get_job(expired[0].id).await.unwrap().unwrap();
    assert_eq!(rescued.status, JobStatus::Pending);
    // Claimed again, the job takes the rest of its room (the first claim
    // took 8 of its 24 bytes): its row does not grow.
    let room = || async {
        sqlx::query_scalar::<_, Option<i64>>(
            "SELECT CAST(LENGTH(room) AS SIGNED) FROM hammerwork_jobs WHERE id = ?",
        )
        .bind(expired[0].id.0)
        .fetch_one(db.storage.pool())
        .await
        .unwrap()
    };
    assert_eq!(room().await, Some(16));
    let again = db
        .storage
        .claim_jobs(ClaimParams::new("plan", 200, later, later))
        .await
        .unwrap();
    assert!(again.iter().any(|job| job.id == expired[0].id));
    assert_eq!(room().await, None);
    db.finish().await;
}

/// While a rescue holds the jobs it found, a heartbeat of a live job goes
/// through: the rescue locks only the expired jobs, by key (on MariaDB a
/// locking read through the phase index kept every running job it
/// passed locked until the rescue committed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescue_leaves_live_jobs_unlocked() {
    let db = Db::migrated("rescue_locks").await;
    let jobs: Vec<Job> = (0..6).map(|i| Job::new("locks", json!(i))).collect();
    db.storage.enqueue_many(jobs).await.unwrap();
    let now = chrono::Utc::now();
    let lease = |until| ClaimParams::new("locks", 3, now, until);
    let expired = db.storage.claim_jobs(lease(now)).await.unwrap();
    let live = db
        .storage
        .claim_jobs(lease(now + chrono::Duration::seconds(60)))
        .await
        .unwrap();
    assert_eq!((expired.len(), live.len()), (3, 3));
    let later = now + chrono::Duration::seconds(1);

    let pool = db.storage.pool();
    let mut rescuer = pool.acquire().await.unwrap();
    sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION")
        .execute(&mut *rescuer)
        .await
        .unwrap();
    let found: Vec<uuid::Uuid> =
        sqlx::query_scalar(include_str!("../queries/rescue_candidates.sql"))
            .bind(later.naive_utc())
            .bind(1000_u32)
            .fetch_all(&mut *rescuer)
            .await
            .unwrap();
    let lock = include_str!("../queries/rescue_expired_jobs.sql")
        .replace("/* ids */", &vec!["?"; found.len()].join(", "));
    let mut lock = sqlx::query_scalar::<_, uuid::Uuid>(&lock).bind(later.naive_utc());
    for id in &found {
        lock = lock.bind(id);
    }
    let locked = lock.fetch_all(&mut *rescuer).await.unwrap();
    assert_eq!(locked.len(), 3);

    let mut heartbeat = pool.acquire().await.unwrap();
    sqlx::query("SET SESSION innodb_lock_wait_timeout = 1")
        .execute(&mut *heartbeat)
        .await
        .unwrap();
    for job in &live {
        let renewed = sqlx::query(
            "UPDATE hammerwork_jobs SET lease_expires_at = ? WHERE id = ? AND status = 'running'",
        )
        .bind((later + chrono::Duration::seconds(60)).naive_utc())
        .bind(job.id.0)
        .execute(&mut *heartbeat)
        .await
        .expect("a live job's heartbeat waits for the rescue");
        assert_eq!(renewed.rows_affected(), 1);
    }
    sqlx::query("ROLLBACK")
        .execute(&mut *rescuer)
        .await
        .unwrap();
    drop((rescuer, heartbeat));
    db.finish().await;
}

/// Completions without a result go by key, one statement per claim number,
/// the list padded to a power of two by repeating its last job: four
/// outcomes (one of a stale claim) count the three current ones, and the
/// stale claim is left running. Rows keep
/// their room for the claim's writes until settled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_by_key_count_each_job_once() {
    let db = Db::migrated("settle_keys").await;
    let jobs: Vec<Job> = (0..4).map(|i| Job::new("keys", json!(i))).collect();
    db.storage.enqueue_many(jobs).await.unwrap();
    let claimed = claim(&db.storage, "keys", 4).await;
    let mut stale = Lease::of(&claimed[3]);
    stale.claim -= 1;
    let done = |lease| Settlement::new(lease, Outcome::Completed { result: None });
    let mut batch = vec![
        done(Lease::of(&claimed[0])),
        done(Lease::of(&claimed[1])),
        done(Lease::of(&claimed[2])),
        done(stale),
    ];
    batch.sort_by_key(|s| s.lease.id);
    let changed = db
        .storage
        .settle_jobs(&batch, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(changed, 3);
    for (job, status) in claimed.iter().zip([
        JobStatus::Completed,
        JobStatus::Completed,
        JobStatus::Completed,
        JobStatus::Running,
    ]) {
        let stored = db.storage.get_job(job.id).await.unwrap().unwrap();
        assert_eq!(stored.status, status, "{}", job.id);
    }
    // Each row keeps room for its claim's writes (migrations 16 and 17): 24
    // bytes when new, 16 while running, none once settled.
    db.storage
        .enqueue(Job::new("keys", json!("new")))
        .await
        .unwrap();
    let rooms: Vec<(String, Option<i64>)> = sqlx::query_as(
        "SELECT CAST(status AS CHAR), CAST(LENGTH(room) AS SIGNED) FROM hammerwork_jobs \
         ORDER BY status",
    )
    .fetch_all(db.storage.pool())
    .await
    .unwrap();
    let rooms: Vec<(&str, Option<i64>)> = rooms.iter().map(|(s, r)| (s.as_str(), *r)).collect();
    assert_eq!(
        rooms,
        [
            ("completed", None),
            ("completed", None),
            ("completed", None),
            ("pending", Some(24)),
            ("running", Some(16)),
        ]
    );
    db.finish().await;
}

/// The statements over a list of keys consider only the primary key for
/// their ranges. InnoDB appends the key to every secondary index, and without
/// `FORCE INDEX (PRIMARY)` the optimizer built the list's ranges for each of
/// the jobs table's secondary indexes too (the optimizer trace lists them as
/// usable), which took MariaDB 2.5 times as long, with seven of them, before
/// it read a row (see keyed.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_statements_range_only_the_primary_key() {
    let db = Db::migrated("keyed_ranges").await;
    let jobs: Vec<Job> = (0..20).map(|i| Job::new("ranges", json!(i))).collect();
    db.storage.enqueue_many(jobs).await.unwrap();
    // Keys of printable bytes: the trace quotes bound keys as they are, and
    // other bytes can make it JSON that the server's JSON_EXTRACT refuses.
    let keys = [*b"hammerwork-key-1", *b"hammerwork-key-2"];
    let now = chrono::Utc::now().naive_utc();
    let mut conn = db.storage.pool().acquire().await.unwrap();
    // Statistics of a table this new may count no rows, and the optimizer
    // would read it whole without a range analysis to trace.
    sqlx::query("ANALYZE TABLE hammerwork_jobs")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::raw_sql("SET optimizer_trace = 'enabled=on'; START TRANSACTION")
        .execute(&mut *conn)
        .await
        .unwrap();
    let keyed = |sql: &str| sql.replace("/* ids */", "?, ?");
    let claim = keyed(include_str!("../queries/claim_jobs_apply.sql"));
    let settle = keyed(include_str!("../queries/settle_completed.sql"));
    let rescue = keyed(include_str!("../queries/rescue_expired_jobs.sql"));
    // Each with its parameters before the list: now and the lease (claim),
    // now and the claim number (settle), now (rescue).
    for (name, query) in [
        ("claim_jobs_apply", sqlx::query(&claim).bind(now).bind(now)),
        (
            "settle_completed",
            sqlx::query(&settle).bind(now).bind(1_i64),
        ),
        ("rescue_expired_jobs", sqlx::query(&rescue).bind(now)),
    ] {
        let mut query = query;
        for key in keys {
            query = query.bind(key.to_vec());
        }
        query.execute(&mut *conn).await.unwrap();
        // The trace's own text may escape the bound keys in a way JSON
        // parsers refuse (MariaDB): the server picks out the part needed.
        let ranges: Option<String> = sqlx::query_scalar(
            "SELECT CAST(JSON_EXTRACT(trace, '$**.potential_range_indexes') AS CHAR) \
             FROM information_schema.optimizer_trace",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let ranges = ranges.unwrap_or_else(|| panic!("{name}: no range analysis traced"));
        let ranges: Value = serde_json::from_str(&ranges).unwrap();
        let usable: Vec<&str> = ranges
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|indexes| indexes.as_array().into_iter().flatten())
            .filter(|index| index["usable"] == json!(true))
            .map(|index| index["index"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(usable, ["PRIMARY"], "{name}: indexes ranged over");
    }
    sqlx::query("ROLLBACK").execute(&mut *conn).await.unwrap();
    drop(conn);
    db.finish().await;
}

/// A job waiting on a dependency is out of the claim range of the phase
/// index (its phase is its status, not `ready`) until its parent completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_jobs_are_outside_the_claim_index() {
    let db = Db::migrated("waiting_index").await;
    let storage = &db.storage;
    let parent = Job::new("idx", json!("parent"));
    let child = Job::new("idx", json!("child")).depends_on(&parent.id);
    storage
        .enqueue_many(vec![parent.clone(), child.clone()])
        .await
        .unwrap();
    let phase = |id: hammerwork_api::JobId| {
        let pool = storage.pool().clone();
        async move {
            let row = sqlx::query("SELECT phase FROM hammerwork_jobs WHERE id = ?")
                .bind(id.0)
                .fetch_one(&pool)
                .await
                .unwrap();
            row.try_get_unchecked::<String, _>("phase").unwrap()
        }
    };
    assert_eq!(phase(child.id).await, "pending");
    let now = chrono::Utc::now();
    let claimed = storage
        .claim_jobs(ClaimParams::new(
            "idx",
            10,
            now,
            now + chrono::Duration::seconds(60),
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    settle_completed(storage, &claimed[0]).await;
    assert_eq!(phase(child.id).await, "ready");
    db.finish().await;
}

/// A dependent enqueued while its stored parent is being settled is never
/// stranded: either the enqueue sees the parent completed, or the settle sees
/// the new edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dependent_enqueued_during_parent_settle_is_released() {
    let db = Db::migrated("enqueue_settle_race").await;
    let storage = &db.storage;
    for i in 0..40 {
        let parent = Job::new("race", json!(i));
        storage.enqueue(parent.clone()).await.unwrap();
        let now = chrono::Utc::now();
        let claimed = storage
            .claim_jobs(ClaimParams::new(
                "race",
                1,
                now,
                now + chrono::Duration::seconds(60),
            ))
            .await
            .unwrap();
        let child = Job::new("race_child", json!(i)).depends_on(&parent.id);
        let settle = {
            let (storage, job) = (storage.clone(), claimed[0].clone());
            tokio::spawn(async move { settle_completed(&storage, &job).await })
        };
        let enqueue = {
            let (storage, child) = (storage.clone(), child.clone());
            tokio::spawn(async move { storage.enqueue(child).await.unwrap() })
        };
        settle.await.unwrap();
        enqueue.await.unwrap();
        let child = storage.get_job(child.id).await.unwrap().unwrap();
        assert_eq!(
            (child.dependency_status, child.pending_dependencies),
            (DependencyStatus::Satisfied, 0),
            "iteration {i}"
        );
    }
    db.finish().await;
}

/// A dependent enqueued under an inner job of a cancellation's walk (the
/// enqueue holds that job's lock while the walk reads the edges) is still
/// cancelled: ending the inner job waits for the enqueue, and the next round
/// of the walk sees the new edge.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dependent_enqueued_under_an_inner_job_during_cancel_is_cancelled() {
    let db = Db::migrated("enqueue_cancel_race").await;
    let storage = &db.storage;
    let a = Job::new("cancel_race", json!("a"));
    let b = Job::new("cancel_race", json!("b")).depends_on(&a.id);
    storage.enqueue(a.clone()).await.unwrap();
    storage.enqueue(b.clone()).await.unwrap();
    // Enough rows that the lookups by id use the primary key, not a scan.
    let filler: Vec<Job> = (0..300).map(|i| Job::new("filler", json!(i))).collect();
    storage
        .enqueue_jobs(EnqueueBatch::jobs(&filler))
        .await
        .unwrap();
    sqlx::query("ANALYZE TABLE hammerwork_jobs")
        .execute(storage.pool())
        .await
        .unwrap();

    // The enqueue of C locks B and inserts B -> C, then waits to commit.
    let c = [Job::new("cancel_race", json!("c")).depends_on(&b.id)];
    let mut tx = storage
        .pool()
        .begin_with("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION")
        .await
        .unwrap();
    storage.enqueue_jobs_in(&mut tx, &c).await.unwrap();
    let cancel = {
        let storage = storage.clone();
        tokio::spawn(async move { storage.cancel_job(a.id).await })
    };
    // Let the cancellation walk A's dependents and block on B's lock.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!cancel.is_finished(), "the cancellation did not wait for B");
    tx.commit().await.unwrap();
    assert!(cancel.await.unwrap().unwrap());

    for id in [b.id, c[0].id] {
        let job = storage.get_job(id).await.unwrap().unwrap();
        assert_eq!(
            (job.status, job.dependency_status),
            (JobStatus::Cancelled, DependencyStatus::Failed),
            "{:?}",
            job.payload
        );
    }
    db.finish().await;
}

/// Migrations 3 (tables, and the trigger of old), 8 (which drops the trigger
/// and the stored pending/running counters), 9 (the claims column), 15 and
/// 16 (indexes replaced) run
/// again harmlessly if their records were lost: MySQL commits DDL as it goes,
/// so every migration must survive a crash before its record is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_migrations_rerun() {
    let db = Db::migrated("migration_rerun").await;
    sqlx::query("DELETE FROM hammerwork_migrations WHERE version IN (3, 8, 9, 15, 16)")
        .execute(db.storage.pool())
        .await
        .unwrap();
    db.storage.migrate().await.expect("migrate again");
    db.storage
        .migrate()
        .await
        .expect("and again, with nothing to do");
    let triggers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.triggers WHERE trigger_schema = DATABASE()",
    )
    .fetch_one(db.storage.pool())
    .await
    .unwrap();
    assert_eq!(triggers, 0, "the engine keeps the counters, not a trigger");
    let group = JobGroup::new("rerun").add_job(Job::new("rerun", json!({})));
    let workflow = db.storage.enqueue_workflow(group).await.unwrap();
    let job = &claim(&db.storage, "rerun", 1).await[0];
    settle_completed(&db.storage, job).await;
    let stats = db.storage.get_workflow_stats(workflow).await.unwrap();
    assert_eq!(
        (stats.total_jobs, stats.completed_jobs, stats.pending_jobs),
        (1, 1, 0)
    );
    db.finish().await;
}

/// The look-ups of a workflow's jobs by status read the (workflow_id,
/// workflow_status) index, whose entries for jobs outside workflows never
/// move (migration 15): the running count of get_workflow and
/// list_workflows, the recount and reset of a retry, and cancel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_lookups_read_the_workflow_status_index() {
    let db = Db::migrated("workflow_plan").await;
    let jobs: Vec<Job> = (0..200).map(|i| Job::new("plan", json!(i))).collect();
    db.storage.enqueue_many(jobs).await.unwrap();
    let group = JobGroup::new("plan")
        .add_parallel_jobs((0..20).map(|i| Job::new("plan", json!(i))).collect());
    let id = db.storage.enqueue_workflow(group).await.unwrap().0;
    let ids = format!("[\"{}\"]", id.simple());
    let none: Option<uuid::Uuid> = None;
    let list_workflows = format!(
        "EXPLAIN {}",
        plain(include_str!("../queries/list_workflows.sql"))
    );
    // The first part of each: the workflow's own jobs.
    let first_part = |sql: &str| format!("EXPLAIN {}", sql.split("\n;\n").next().unwrap());
    let reset = first_part(include_str!("../queries/reset_workflow_jobs.sql"));
    let cancel = first_part(include_str!("../queries/cancel_workflow_jobs.sql"));
    let plans = [
        sqlx::query(concat!(
            "EXPLAIN ",
            include_str!("../queries/get_workflow.sql")
        ))
        .bind(id),
        sqlx::query(&list_workflows)
            .bind(none)
            .bind(none)
            .bind(10_u32),
        sqlx::query(concat!(
            "EXPLAIN ",
            include_str!("../queries/recount_dependencies.sql")
        ))
        .bind(id)
        .bind("[]"),
        sqlx::query(&reset).bind(id),
        sqlx::query(&cancel).bind(ids),
    ];
    for (n, plan) in plans.into_iter().enumerate() {
        let rows = plan.fetch_all(db.storage.pool()).await.unwrap();
        let keys: Vec<Option<String>> = rows
            .iter()
            .map(|row| row.try_get_unchecked("key").unwrap())
            .collect();
        assert!(
            keys.iter()
                .any(|k| k.as_deref() == Some("hammerwork_jobs_workflow_status")),
            "query {n}: keys {keys:?}"
        );
    }
    db.finish().await;
}

/// A workflow's running jobs, counted through its status index, and its jobs
/// listed by status are exact while other jobs churn beside it (claims and
/// completions in another queue, so InnoDB purges moved index entries while
/// the workflow is read).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workflow_reads_are_exact_under_churn() {
    let db = Db::migrated("workflow_churn").await;
    let storage = db.storage.clone();
    let group = JobGroup::new("churn")
        .add_parallel_jobs((0..300).map(|i| Job::new("wf", json!(i))).collect());
    let id = storage.enqueue_workflow(group).await.unwrap();
    for round in 0..3 {
        let claimed = claim(&storage, "wf", 100).await;
        if round < 2 {
            let now = chrono::Utc::now();
            let settlements = completions(&claimed);
            assert_eq!(storage.settle_jobs(&settlements, now).await.unwrap(), 100);
        }
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let storage = storage.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let jobs: Vec<Job> = (0..200).map(|i| Job::new("other", json!(i))).collect();
                storage.enqueue_many(jobs).await.unwrap();
                let now = chrono::Utc::now();
                let claimed = storage
                    .claim_jobs(ClaimParams::new(
                        "other",
                        200,
                        now,
                        now + chrono::Duration::seconds(60),
                    ))
                    .await
                    .unwrap();
                let settlements = completions(&claimed);
                storage.settle_jobs(&settlements, now).await.unwrap();
            }
        })
    };
    let mut wrong = Vec::new();
    for _ in 0..100 {
        let workflow = storage.get_workflow(id).await.unwrap().unwrap();
        let (running, completed) = (workflow.stats.running_jobs, workflow.stats.completed_jobs);
        let listed = storage
            .list_jobs(
                ListJobsParams::new()
                    .workflow(id)
                    .status(JobStatus::Completed)
                    .limit(1000),
            )
            .await
            .unwrap()
            .len();
        if (running, completed, listed) != (100, 200, 200) {
            wrong.push((running, completed, listed));
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.await.unwrap();
    assert!(
        wrong.is_empty(),
        "{} of 100 reads wrong: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    db.finish().await;
}

/// Listing the recurrences to continue reads the cron_live indexes, not the
/// tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recurrence_listing_reads_the_cron_indexes() {
    let db = Db::migrated("recurrence_plan").await;
    let jobs: Vec<Job> = (0..200).map(|i| Job::new("plan", json!(i))).collect();
    db.storage.enqueue_many(jobs).await.unwrap();
    for (query, index) in [
        (
            plain(include_str!("../queries/list_recurring_jobs.sql")),
            "hammerwork_jobs_cron_live",
        ),
        (
            plain(include_str!("../queries/list_recurring_workflows.sql")),
            "hammerwork_workflows_cron_live",
        ),
    ] {
        // From the start, and after a cursor (the primary key would serve
        // `id > ?` and ORDER BY id too).
        for after in [None, Some(uuid::Uuid::nil())] {
            let plan = sqlx::query(&format!("EXPLAIN {query}"))
                .bind(after)
                .bind(after)
                .bind(10_u32)
                .fetch_one(db.storage.pool())
                .await
                .unwrap();
            let key: Option<String> = plan.try_get_unchecked("key").unwrap();
            let extra: Option<String> = plan.try_get_unchecked("Extra").unwrap();
            // An empty index range may also be reported as "no matching row".
            assert!(
                key.as_deref() == Some(index)
                    || extra.as_deref().is_some_and(|e| e.contains("no matching")),
                "{query}: key {key:?}, extra {extra:?}"
            );
        }
    }
    db.finish().await;
}

/// An error writing the next occurrence rolls back marking the source as
/// continued: it is listed again, and can still be advanced, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advance_recurrence_error_keeps_the_series_live() {
    let db = Db::migrated("recurrence_rollback").await;
    let storage = &db.storage;
    let job = Job::new("cron", json!({})).with_cron_schedule("*/5 * * * *");
    let other = Job::new("cron", json!("other"));
    storage
        .enqueue_many(vec![job.clone(), other.clone()])
        .await
        .unwrap();
    assert!(storage.cancel_job(job.id).await.unwrap());
    assert_eq!(
        storage
            .list_recurrences(Default::default(), 10)
            .await
            .unwrap()
            .len(),
        1
    );

    // The "next occurrence" reuses a stored id: the batch fails.
    let mut next = Job::new("cron", json!({})).with_cron_schedule("*/5 * * * *");
    next.id = other.id;
    let source = RecurrenceSource::Job(job.id);
    let result = storage
        .advance_recurrence(
            source,
            Some(EnqueueBatch::jobs(std::slice::from_ref(&next))),
        )
        .await;
    assert!(
        matches!(&result, Err(Error::DuplicateJob { id }) if *id == other.id),
        "{result:?}"
    );
    assert_eq!(
        storage
            .list_recurrences(Default::default(), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        storage
            .get_job(job.id)
            .await
            .unwrap()
            .unwrap()
            .next_occurrence,
        None
    );

    assert!(storage.advance_recurrence(source, None).await.unwrap());
    assert!(!storage.advance_recurrence(source, None).await.unwrap());
    assert!(storage
        .list_recurrences(Default::default(), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(storage.queue_counts("cron").await.unwrap().total(), 2);
    db.finish().await;
}

async fn settle_completed(storage: &MySqlStorage, job: &Job) {
    let lease = Lease::of(job);
    let changed = storage
        .settle_jobs(
            &[Settlement::new(lease, Outcome::Completed { result: None })],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
}

/// Claims every ready job of `queue` (expecting `count`).
async fn claim(storage: &MySqlStorage, queue: &str, count: usize) -> Vec<Job> {
    let now = chrono::Utc::now();
    let claimed = storage
        .claim_jobs(ClaimParams::new(
            queue,
            100,
            now,
            now + chrono::Duration::seconds(60),
        ))
        .await
        .unwrap();
    assert_eq!(claimed.len(), count, "claimed on {queue}");
    claimed
}

fn lease_of(job: &Job) -> Lease {
    Lease::of(job)
}

/// Each of `jobs` completed without a result.
fn completions(jobs: &[Job]) -> Vec<Settlement> {
    jobs.iter()
        .map(|job| Settlement::new(Lease::of(job), Outcome::Completed { result: None }))
        .collect()
}

async fn spawn_operations(storage: &MySqlStorage) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM hammerwork_spawn_operations")
        .fetch_one(storage.pool())
        .await
        .unwrap()
}

/// complete_and_spawn is one transaction with the whole settle: a parent
/// with a stored dependent takes settle_jobs' slow path, a failing child
/// batch undoes the completion too, and a successful one releases the
/// dependent, satisfies a child that depends on the parent, and wakes the
/// children's queue after commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_is_one_transaction_with_the_settle() {
    let db = Db::migrated("spawn_tx").await;
    let storage = &db.storage;
    let parent = Job::new("spawn_p", json!("parent"));
    let dependent = Job::new("spawn_d", json!("dependent")).depends_on(&parent.id);
    storage
        .enqueue_many(vec![parent.clone(), dependent.clone()])
        .await
        .unwrap();
    let running = claim(storage, "spawn_p", 1).await.remove(0);
    let config = SpawnConfig::new()
        .with_handler("test")
        .with_operation_id("op-tx")
        .with_batch_size(1)
        .with_metadata(json!({"source": "test", "n": [1, null]}));
    let now = chrono::Utc::now();

    // The second batch names a job that does not exist.
    let after_parent = Job::new("spawn_c", json!(1)).depends_on(&parent.id);
    let missing = Job::new("spawn_c", json!(2)).depends_on(&JobId(uuid::Uuid::now_v7()));
    let bad = plan_spawn(&running, &config, vec![after_parent, missing], now).unwrap();
    let result = storage
        .complete_and_spawn(lease_of(&running), None, &bad, now)
        .await;
    assert!(result.is_err(), "{result:?}");
    let stored = storage.get_job(parent.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Running);
    assert_eq!(spawn_operations(storage).await, 0);
    assert_eq!(storage.queue_counts("spawn_c").await.unwrap().total(), 0);

    let mut listener = storage.listen().await.unwrap().unwrap();
    let after_parent = Job::new("spawn_c", json!(1)).depends_on(&parent.id);
    let plain = Job::new("spawn_c", json!(2));
    let good = plan_spawn(
        &running,
        &config,
        vec![after_parent.clone(), plain.clone()],
        now,
    )
    .unwrap();
    assert!(storage
        .complete_and_spawn(lease_of(&running), Some(json!("done")), &good, now)
        .await
        .unwrap());
    let mut woken = Vec::new();
    while let Ok(Some(queue)) =
        tokio::time::timeout(Duration::from_millis(200), listener.recv()).await
    {
        woken.push(queue);
    }
    assert!(woken.iter().any(|q| q == "spawn_c"), "{woken:?}");
    assert!(woken.iter().any(|q| q == "spawn_d"), "{woken:?}");

    let stored = storage.get_job(parent.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Completed);
    assert_eq!(stored.result, Some(json!("done")));
    let released = storage.get_job(dependent.id).await.unwrap().unwrap();
    assert_eq!(released.dependency_status, DependencyStatus::Satisfied);
    let child = storage.get_job(after_parent.id).await.unwrap().unwrap();
    assert_eq!(child.dependency_status, DependencyStatus::Satisfied);
    for id in [after_parent.id, plain.id] {
        let child = storage.get_job(id).await.unwrap().unwrap();
        assert_eq!(child.parent_job_id, Some(parent.id));
        assert_eq!(child.spawn_operation_id.as_deref(), Some("op-tx"));
        assert_eq!(child.spawn_depth, 1);
    }
    let op = storage.get_spawn_operation("op-tx").await.unwrap().unwrap();
    assert_eq!(op.parent_job_id, parent.id);
    assert_eq!(op.queue_name, "spawn_p");
    assert_eq!((op.child_count, op.batch_count), (2, 2));
    assert_eq!(op.metadata, Some(json!({"source": "test", "n": [1, null]})));
    assert_eq!(op.created_at, now.trunc_subsecs(6));

    // The attempt is no longer current: nothing more is written.
    assert!(!storage
        .complete_and_spawn(lease_of(&running), None, &good, now)
        .await
        .unwrap());
    assert_eq!(spawn_operations(storage).await, 1);
    db.finish().await;
}

/// Operation ids compare byte for byte, like PostgreSQL's text: case and
/// trailing spaces make different ids; the same id twice is
/// `DuplicateOperation`, with the parent left running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_operation_ids_compare_byte_for_byte() {
    let db = Db::migrated("spawn_ids").await;
    let storage = &db.storage;
    let ids = ["op", "Op", "op ", "öp"];
    let parents: Vec<Job> = (0..=ids.len()).map(|i| Job::new("ids", json!(i))).collect();
    storage.enqueue_many(parents).await.unwrap();
    let claimed = claim(storage, "ids", ids.len() + 1).await;
    let now = chrono::Utc::now();
    for (id, parent) in ids.iter().zip(&claimed) {
        let config = SpawnConfig::new().with_handler("h").with_operation_id(*id);
        let set = plan_spawn(parent, &config, vec![Job::new("ids_c", json!(id))], now).unwrap();
        assert!(storage
            .complete_and_spawn(lease_of(parent), None, &set, now)
            .await
            .unwrap());
    }
    for id in ids {
        let op = storage.get_spawn_operation(id).await.unwrap().unwrap();
        assert_eq!(op.id, id);
        let children = storage.get_children(op.parent_job_id).await.unwrap();
        assert_eq!(children.len(), 1, "{id:?}");
        assert_eq!(children[0].spawn_operation_id.as_deref(), Some(id));
    }
    assert!(storage.get_spawn_operation("OP").await.unwrap().is_none());

    let last = &claimed[ids.len()];
    let config = SpawnConfig::new().with_handler("h").with_operation_id("Op");
    let set = plan_spawn(last, &config, vec![Job::new("ids_c", json!("x"))], now).unwrap();
    let err = storage
        .complete_and_spawn(lease_of(last), None, &set, now)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Spawn(SpawnError::DuplicateOperation { id }) if id == "Op"),
        "{err:?}"
    );
    let stored = storage.get_job(last.id).await.unwrap().unwrap();
    assert_eq!(stored.status, JobStatus::Running);
    assert_eq!(storage.queue_counts("ids_c").await.unwrap().total(), 4);
    let listed = storage
        .list_spawn_operations(SpawnQuery::new().queue("ids"))
        .await
        .unwrap();
    assert_eq!(listed.len(), 4);
    db.finish().await;
}

/// The spawn reads use their indexes: children by parent_job_id, and dead
/// children by spawn_operation_id (the join in spawn_stats compares columns
/// of one type, so the index can serve it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_reads_use_their_indexes() {
    let db = Db::migrated("spawn_plan").await;
    let storage = &db.storage;
    let jobs: Vec<Job> = (0..200).map(|i| Job::new("plan", json!(i))).collect();
    storage.enqueue_many(jobs).await.unwrap();
    let pool = storage.pool();
    let descendants = plain(include_str!("../queries/get_descendants.sql"));
    let plan = sqlx::query(&format!("EXPLAIN {descendants}"))
        .bind(uuid::Uuid::now_v7())
        .bind(3_u32)
        .bind(3_u32)
        .fetch_all(pool)
        .await
        .unwrap();
    let keys: Vec<Option<String>> = plan
        .iter()
        .map(|row| row.try_get_unchecked("key").unwrap())
        .collect();
    assert!(
        keys.iter()
            .any(|k| k.as_deref() == Some("hammerwork_jobs_parent")),
        "{keys:?}"
    );
    let stats = plain(include_str!("../queries/spawn_stats.sql"));
    let none: Option<&[u8]> = None;
    let at: Option<chrono::DateTime<chrono::Utc>> = None;
    let plan = sqlx::query(&format!("EXPLAIN {stats}"))
        .bind(none)
        .bind(none)
        .bind(at)
        .bind(at)
        .bind(at)
        .bind(at)
        .fetch_all(pool)
        .await
        .unwrap();
    // Which index the optimizer picks depends on the data (on empty tables,
    // status = 'dead'); the operation index must be a candidate.
    let rows: Vec<(Option<String>, Option<String>)> = plan
        .iter()
        .map(|row| {
            (
                row.try_get_unchecked("table").unwrap(),
                row.try_get_unchecked("possible_keys").unwrap(),
            )
        })
        .collect();
    assert!(
        rows.iter()
            .any(|(table, keys)| table.as_deref() == Some("j")
                && keys
                    .as_deref()
                    .is_some_and(|k| k.contains("hammerwork_jobs_spawn_operation"))),
        "{rows:?}"
    );
    db.finish().await;
}

async fn has_dependents(storage: &MySqlStorage, id: JobId) -> i8 {
    sqlx::query_scalar("SELECT has_dependents FROM hammerwork_jobs WHERE id = ?")
        .bind(id.0)
        .fetch_one(storage.pool())
        .await
        .unwrap()
}

async fn settle_failed(storage: &MySqlStorage, job: &Job) {
    let failed = Outcome::Failed {
        error: "boom".into(),
        retry_at: None,
    };
    let changed = storage
        .settle_jobs(
            &[Settlement::new(lease_of(job), failed)],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(changed, 1);
}

/// Children a parent awaits are grafted onto each of its waiting dependents
/// (one edge per pair, depends_on, pending count) and written with
/// has_dependents set, so their completions take settle_jobs' slow path and
/// release the held dependents; without waiting dependents, nothing is
/// grafted and the children stay plain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaited_children_are_grafted_and_flagged() {
    let db = Db::migrated("spawn_graft").await;
    let storage = &db.storage;
    let parent = Job::new("graft_p", json!("parent"));
    let d1 = Job::new("graft_d", json!(1)).depends_on(&parent.id);
    let d2 = Job::new("graft_d", json!(2)).depends_on(&parent.id);
    storage
        .enqueue_many(vec![parent.clone(), d1.clone(), d2.clone()])
        .await
        .unwrap();
    let running = claim(storage, "graft_p", 1).await.remove(0);
    let config = SpawnConfig::new()
        .with_handler("test")
        .with_await_children(true);
    let now = chrono::Utc::now();
    let (c1, c2) = (Job::new("graft_c", json!(1)), Job::new("graft_c", json!(2)));
    let spawn = plan_spawn(&running, &config, vec![c1.clone(), c2.clone()], now).unwrap();
    assert!(storage
        .complete_and_spawn(lease_of(&running), None, &spawn, now)
        .await
        .unwrap());

    let edges: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hammerwork_job_dependencies WHERE parent_id IN (?, ?)",
    )
    .bind(c1.id.0)
    .bind(c2.id.0)
    .fetch_one(storage.pool())
    .await
    .unwrap();
    assert_eq!(edges, 4);
    for id in [c1.id, c2.id] {
        assert_eq!(has_dependents(storage, id).await, 1);
    }
    for id in [d1.id, d2.id] {
        let held = storage.get_job(id).await.unwrap().unwrap();
        assert_eq!(held.dependency_status, DependencyStatus::Waiting);
        assert_eq!(held.pending_dependencies, 2);
        assert_eq!(held.depends_on, vec![parent.id], "edges only");
    }

    let children = claim(storage, "graft_c", 2).await;
    settle_completed(storage, &children[0]).await;
    assert_eq!(
        storage
            .get_job(d1.id)
            .await
            .unwrap()
            .unwrap()
            .pending_dependencies,
        1
    );
    claim(storage, "graft_d", 0).await;
    settle_completed(storage, &children[1]).await;
    for id in [d1.id, d2.id] {
        let released = storage.get_job(id).await.unwrap().unwrap();
        assert_eq!(released.dependency_status, DependencyStatus::Satisfied);
        assert_eq!(released.pending_dependencies, 0);
    }
    claim(storage, "graft_d", 2).await;

    // Nobody waits on this parent: the children are plain.
    let lone = Job::new("graft_lone", json!("lone"));
    storage.enqueue(lone.clone()).await.unwrap();
    let running = claim(storage, "graft_lone", 1).await.remove(0);
    let child = Job::new("graft_lone_c", json!(1));
    let spawn = plan_spawn(&running, &config, vec![child.clone()], now).unwrap();
    assert!(storage
        .complete_and_spawn(lease_of(&running), None, &spawn, now)
        .await
        .unwrap());
    assert_eq!(has_dependents(storage, child.id).await, 0);
    db.finish().await;
}

/// A child written already ended (its stored dependency was cancelled) ends
/// the dependents it was grafted onto at once, instead of leaving them
/// waiting for a job that never completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaited_child_ended_at_once_ends_the_held_dependents() {
    let db = Db::migrated("spawn_graft_ended").await;
    let storage = &db.storage;
    let parent = Job::new("grafte_p", json!("parent"));
    let held = Job::new("grafte_d", json!("held")).depends_on(&parent.id);
    let gone = Job::new("grafte_x", json!("gone"));
    storage
        .enqueue_many(vec![parent.clone(), held.clone(), gone.clone()])
        .await
        .unwrap();
    assert!(storage.cancel_job(gone.id).await.unwrap());
    let running = claim(storage, "grafte_p", 1).await.remove(0);
    let config = SpawnConfig::new()
        .with_handler("test")
        .with_await_children(true);
    let now = chrono::Utc::now();
    let child = Job::new("grafte_c", json!(1)).depends_on(&gone.id);
    let spawn = plan_spawn(&running, &config, vec![child.clone()], now).unwrap();
    assert!(storage
        .complete_and_spawn(lease_of(&running), None, &spawn, now)
        .await
        .unwrap());
    let child = storage.get_job(child.id).await.unwrap().unwrap();
    assert_eq!(child.status, JobStatus::Cancelled);
    let held = storage.get_job(held.id).await.unwrap().unwrap();
    assert_eq!(held.status, JobStatus::Cancelled);
    assert_eq!(held.dependency_status, DependencyStatus::Failed);
    db.finish().await;
}

/// A job killed by the failure of a dependency from another workflow applies
/// its own workflow's policy: under FailFast its workflow fails and the
/// workflow's other jobs are cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_killed_from_another_workflow_applies_its_policy() {
    let db = Db::migrated("killed_policy").await;
    let storage = &db.storage;
    let upstream = Job::new("kp_up", json!("upstream"));
    storage
        .enqueue_workflow(
            JobGroup::new("first")
                .add_job(upstream.clone())
                .with_failure_policy(FailurePolicy::ContinueOnFailure),
        )
        .await
        .unwrap();
    let downstream = Job::new("kp_down", json!("downstream")).depends_on(&upstream.id);
    let sibling = Job::new("kp_sibling", json!("sibling"));
    let second = storage
        .enqueue_workflow(
            JobGroup::new("second")
                .add_job(downstream.clone())
                .add_job(sibling.clone())
                .with_failure_policy(FailurePolicy::FailFast),
        )
        .await
        .unwrap();
    let running = claim(storage, "kp_up", 1).await.remove(0);
    settle_failed(storage, &running).await;

    let downstream = storage.get_job(downstream.id).await.unwrap().unwrap();
    assert_eq!(downstream.status, JobStatus::Dead);
    let sibling = storage.get_job(sibling.id).await.unwrap().unwrap();
    assert_eq!(sibling.status, JobStatus::Cancelled);
    assert_eq!(
        storage.get_workflow_status(second).await.unwrap(),
        WorkflowStatus::Failed
    );
    db.finish().await;
}

/// The reads that reach the spawned jobs a workflow's held stage awaits are
/// index lookups (by workflow, then the edge table's job_id, then primary
/// key), never a scan of the jobs or the edges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn awaited_children_reads_use_their_indexes() {
    let db = Db::migrated("awaited_plan").await;
    let storage = &db.storage;
    let jobs: Vec<Job> = (0..200).map(|i| Job::new("plan", json!(i))).collect();
    storage.enqueue_many(jobs).await.unwrap();
    let group = JobGroup::new("awaited_plan")
        .add_job(Job::new("plan_p", json!({})))
        .then(Job::new("plan_next", json!({})));
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let ids = json!([workflow.0.simple().to_string()]).to_string();
    let pool = storage.pool();
    let plans = [
        (
            "cancel_workflow_jobs.sql, second part",
            sqlx::query(&format!(
                "EXPLAIN {}",
                include_str!("../queries/cancel_workflow_jobs.sql")
                    .split("\n;\n")
                    .nth(1)
                    .unwrap()
            ))
            .bind(&ids)
            .fetch_all(pool)
            .await
            .unwrap(),
        ),
        (
            "reset_workflow_jobs.sql, second part",
            sqlx::query(&format!(
                "EXPLAIN {}",
                include_str!("../queries/reset_workflow_jobs.sql")
                    .split("\n;\n")
                    .nth(1)
                    .unwrap()
            ))
            .bind(workflow.0)
            .fetch_all(pool)
            .await
            .unwrap(),
        ),
        (
            "recount_dependencies.sql",
            sqlx::query(&format!(
                "EXPLAIN {}",
                include_str!("../queries/recount_dependencies.sql")
            ))
            .bind(workflow.0)
            .bind(&ids)
            .fetch_all(pool)
            .await
            .unwrap(),
        ),
    ];
    for (query, plan) in plans {
        let rows: Vec<(Option<String>, Option<String>, Option<String>)> = plan
            .iter()
            .map(|row| {
                (
                    row.try_get_unchecked("table").unwrap(),
                    row.try_get_unchecked("type").unwrap(),
                    row.try_get_unchecked("key").unwrap(),
                )
            })
            .collect();
        eprintln!("{query}: {rows:?}");
        // Every read of the jobs or the edges goes through an index.
        for (table, kind, key) in &rows {
            let table = table.as_deref().unwrap_or_default();
            if ["w", "d", "p", "hammerwork_jobs"].contains(&table) {
                assert!(
                    kind.as_deref() != Some("ALL") && key.is_some(),
                    "{query}: {rows:?}"
                );
            }
            if table == "p" {
                assert_eq!(key.as_deref(), Some("PRIMARY"), "{query}: {rows:?}");
            }
        }
    }
    db.finish().await;
}

/// A workflow retry recounts each pending job's unfinished parents while a
/// parent completes concurrently: the retry waits for that parent's
/// transaction and counts it as done, so the dependent is not left waiting
/// for a parent that finished. (On PostgreSQL the recount read the parent as
/// unfinished before it took a share lock. On MariaDB the retry's locking scan
/// of the workflow's dead jobs already waits on the index entry the parent's
/// update holds, so this passed before the recount locked its parents too; the
/// share lock keeps it from depending on that scan.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_recount_sees_a_parent_completing_concurrently() {
    let db = Db::migrated("recount_race").await;
    let storage = &db.storage;
    let (p, q) = (Job::new("race", json!("p")), Job::new("race", json!("q")));
    let child = Job::new("race_child", json!({}))
        .depends_on(&p.id)
        .depends_on(&q.id);
    let group = JobGroup::new("race")
        .add_parallel_jobs(vec![p.clone(), q.clone().with_max_attempts(1)])
        .add_job(child.clone())
        .with_failure_policy(FailurePolicy::ContinueOnFailure);
    let workflow = storage.enqueue_workflow(group).await.unwrap();
    let claimed = claim(storage, "race", 2).await;
    let q_job = claimed.iter().find(|j| j.id == q.id).unwrap();
    settle_failed(storage, q_job).await;
    assert_eq!(
        storage.get_job(child.id).await.unwrap().unwrap().status,
        JobStatus::Dead
    );

    // p completes in a transaction still open while the retry runs (its
    // dependent is dead then, so it releases nothing).
    let mut settle = storage.pool().begin().await.unwrap();
    sqlx::query("UPDATE hammerwork_jobs SET status = 'completed' WHERE id = ?")
        .bind(p.id.0)
        .execute(&mut *settle)
        .await
        .unwrap();
    let retry = tokio::spawn({
        let storage = storage.clone();
        async move { storage.retry_workflow(workflow).await }
    });
    // Commit p once the retry waits for a lock, or once it ended without
    // waiting.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'",
        )
        .fetch_one(storage.pool())
        .await
        .unwrap();
        if waiting > 0 || retry.is_finished() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retry neither waited nor ended"
        );
        // InnoDB refreshes innodb_trx only when it was not read for 100 ms.
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    settle.commit().await.unwrap();
    assert_eq!(
        retry.await.unwrap().unwrap(),
        2,
        "q and the child start over"
    );
    let child = storage.get_job(child.id).await.unwrap().unwrap();
    assert_eq!(
        child.pending_dependencies, 1,
        "the child waits for q only: {child:?}"
    );
    db.finish().await;
}

/// A claimed row that cannot be read ends alone, dead with the reason; its
/// batch-mates run (the claim failed as a whole before, leaving all three
/// running).
#[tokio::test]
async fn unreadable_claimed_row_ends_alone() {
    let db = Db::migrated("unreadable_row").await;
    let pool = db.storage.pool().clone();
    hammerwork_testkit::stored::unreadable_row_ends_alone(db.storage.clone(), |id, policy| {
        let pool = pool.clone();
        async move {
            sqlx::query("UPDATE hammerwork_jobs SET retry_policy = ? WHERE id = ?")
                .bind(policy)
                .bind(id.0)
                .execute(&pool)
                .await
                .unwrap();
        }
    })
    .await;
    db.finish().await;
}

/// A recurring series whose next occurrence is refused is backed off (1 s,
/// 2 s, 4 s ...) rather than tried every tick; the others move.
#[tokio::test]
async fn failing_series_backs_off() {
    let db = Db::migrated("failing_series").await;
    let lenient = db
        .storage
        .clone()
        .with_limits(hammerwork_api::Limits::default().with_max_payload_bytes(4 << 20));
    hammerwork_testkit::stored::failing_series_backs_off(db.storage.clone(), lenient).await;
    db.finish().await;
}

/// Heartbeats and settles of the same running jobs, sent concurrently with
/// their leases in opposite orders, never deadlock each other: the engine
/// locks rows in id order whatever order the caller gives (MySQL's JSON_TABLE
/// join follows the array's order, so arrival order deadlocked; no conflict
/// retry may be logged). One thread, so the log is this test's own.
#[tokio::test]
async fn heartbeat_and_settle_in_opposite_orders_do_not_deadlock() {
    let logged = hammerwork_testkit::logged::Logged::default();
    let _guard = logged.install();
    let db = Db::migrated("lock_order").await;
    let storage = &db.storage;
    for round in 0..20 {
        let jobs: Vec<Job> = (0..400).map(|i| Job::new("order", json!(i))).collect();
        storage.enqueue_many(jobs).await.unwrap();
        let now = chrono::Utc::now().trunc_subsecs(6);
        let claimed = storage
            .claim_jobs(ClaimParams::new(
                "order",
                400,
                now,
                now + chrono::Duration::seconds(60),
            ))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 400, "round {round}");
        let mut reversed: Vec<Lease> = claimed.iter().map(Lease::of).collect();
        reversed.sort_by_key(|l| std::cmp::Reverse(l.id));
        let settlements = completions(&claimed);
        let until = now + chrono::Duration::seconds(120);
        let (beat, settled) = tokio::join!(
            storage.heartbeat_jobs(&reversed, until),
            storage.settle_jobs(&settlements, now)
        );
        beat.unwrap();
        assert_eq!(settled.unwrap(), 400);
    }
    let retries = logged.conflict_retries();
    assert_eq!(
        retries,
        0,
        "conflict retries were logged:\n{}",
        logged.text()
    );
    db.finish().await;
}

/// A server that cannot be reached fails `connect` at once with the driver's
/// reason, not after the pool's 30 s acquire timeout with "timed out".
#[tokio::test]
async fn connect_to_an_unreachable_server_fails_at_once() {
    let started = std::time::Instant::now();
    let Err(err) = MySqlStorage::connect("mysql://app@127.0.0.1:1/jobs").await else {
        panic!("nothing listens on port 1");
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!err.to_string().contains("timed out"), "{err}");
}

/// A statement with its numbered parameters (`?1`, as the backend writes them
/// to use one twice) made plain `?`s, for EXPLAIN with each bound where it is
/// used.
fn plain(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '?' {
            while chars.next_if(char::is_ascii_digit).is_some() {}
        }
    }
    out
}
