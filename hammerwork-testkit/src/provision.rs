//! Where the suite's databases come from: a URL from the environment first,
//! otherwise a container started with testcontainers (needs Docker), otherwise
//! a panic that says what to set. Never a silent skip.

use std::future::Future;
use std::pin::Pin;

/// Environment variable naming the PostgreSQL server for the suite.
pub const POSTGRES_URL_VAR: &str = "HAMMERWORK_POSTGRES_URL";
/// Environment variable naming the MySQL / MariaDB server for the suite.
pub const MYSQL_URL_VAR: &str = "HAMMERWORK_MYSQL_URL";

/// A PostgreSQL server URL: `$HAMMERWORK_POSTGRES_URL`, or a `postgres:16`
/// container started once per test binary.
///
/// # Panics
/// When the variable is unset and no container can be started.
pub fn postgres_url() -> String {
    server_url(POSTGRES_URL_VAR, Server::Postgres)
}

/// A MySQL server URL: `$HAMMERWORK_MYSQL_URL`, or a `mysql:8` container
/// started once per test binary.
///
/// # Panics
/// When the variable is unset and no container can be started.
pub fn mysql_url() -> String {
    server_url(MYSQL_URL_VAR, Server::MySql)
}

#[derive(Clone, Copy, Debug)]
enum Server {
    Postgres,
    MySql,
}

fn server_url(var: &str, server: Server) -> String {
    if let Ok(url) = std::env::var(var) {
        if !url.trim().is_empty() {
            return url;
        }
    }
    match containers::start(server) {
        Ok(url) => url,
        Err(why) => panic!(
            "no {server:?} server for the conformance suite: {var} is not set and {why}. \
             Set {var} to a server URL (e.g. {example}) or start Docker.",
            example = match server {
                Server::Postgres => "postgres://postgres@127.0.0.1:5432/test",
                Server::MySql => "mysql://root@127.0.0.1:3306/test",
            }
        ),
    }
}

#[cfg(feature = "testcontainers")]
mod containers {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};

    use testcontainers::runners::SyncRunner;
    use testcontainers::Container;

    use super::Server;

    /// Containers live as long as the test binary; one per server kind.
    static STARTED: OnceLock<Mutex<HashMap<&'static str, Result<String, String>>>> =
        OnceLock::new();
    static KEEP_ALIVE: OnceLock<Mutex<Vec<Box<dyn std::any::Any + Send>>>> = OnceLock::new();

    pub(super) fn start(server: Server) -> Result<String, String> {
        let key = match server {
            Server::Postgres => "postgres",
            Server::MySql => "mysql",
        };
        let mut started = STARTED
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        started
            .entry(key)
            // The sync runner owns a runtime: run it off any async runtime's thread.
            .or_insert_with(|| {
                std::thread::spawn(move || boot(server))
                    .join()
                    .unwrap_or_else(|_| Err("starting the container panicked".into()))
            })
            .clone()
    }

    fn keep<T: testcontainers::Image + Send + 'static>(container: Container<T>) {
        KEEP_ALIVE
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(container));
    }

    fn boot(server: Server) -> Result<String, String> {
        let failed = |e: testcontainers::TestcontainersError| {
            format!("testcontainers could not start one ({e})")
        };
        match server {
            Server::Postgres => {
                let container = testcontainers_modules::postgres::Postgres::default()
                    .start()
                    .map_err(failed)?;
                let port = container.get_host_port_ipv4(5432).map_err(failed)?;
                let host = container.get_host().map_err(failed)?;
                keep(container);
                Ok(format!(
                    "postgres://postgres:postgres@{host}:{port}/postgres"
                ))
            }
            Server::MySql => {
                let container = testcontainers_modules::mysql::Mysql::default()
                    .start()
                    .map_err(failed)?;
                let port = container.get_host_port_ipv4(3306).map_err(failed)?;
                let host = container.get_host().map_err(failed)?;
                keep(container);
                Ok(format!("mysql://root@{host}:{port}/test"))
            }
        }
    }
}

#[cfg(not(feature = "testcontainers"))]
mod containers {
    use super::Server;

    pub(super) fn start(_server: Server) -> Result<String, String> {
        Err("the testkit was built without its `testcontainers` feature".into())
    }
}

/// A storage on a database (or schema) of its own, made for one test.
///
/// Call [`finish`](Self::finish) when the test passed: it drops the database.
/// A failing test panics before that, so its database stays for inspection,
/// and its name is printed when it is created.
pub struct TestDb<S> {
    /// The storage under test.
    pub storage: S,
    /// The database or schema name, printed so a failure can be inspected.
    pub name: String,
    cleanup: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl<S> TestDb<S> {
    /// Wraps `storage` on database `name`; `cleanup` drops it.
    pub fn new(
        storage: S,
        name: String,
        cleanup: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        eprintln!("hammerwork-testkit: test database {name}");
        TestDb {
            storage,
            name,
            cleanup: Box::pin(cleanup),
        }
    }

    /// Drops the test's database (call after the test passed).
    pub async fn finish(self) {
        self.cleanup.await;
    }
}

/// A unique, lowercase database/schema name for `test`: `hw_<test>_<random>`,
/// at most 60 characters.
pub fn unique_name(test: &str) -> String {
    let suffix = uuid::Uuid::now_v7().simple().to_string();
    let mut stem: String = test
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    stem.truncate(40);
    format!("hw_{}_{}", stem.to_ascii_lowercase(), &suffix[20..])
}

/// Which server a [`FreshDatabase`] is made on.
#[cfg(feature = "databases")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    /// A database on the server of [`postgres_url`].
    Postgres,
    /// A database on the server of [`mysql_url`].
    MySql,
    /// A file in a temporary directory of its own.
    Sqlite,
}

/// An empty database of a test's own, named by URL, for tests of tools that
/// take a database URL. [`finish`](Self::finish) drops it once the test
/// passed; a failing test leaves it (its URL is printed) for inspection.
#[cfg(feature = "databases")]
pub struct FreshDatabase {
    /// Which server it is on.
    pub kind: DatabaseKind,
    /// Its URL.
    pub url: String,
    /// A temporary directory of the test's own (the SQLite file lives there).
    pub dir: tempfile::TempDir,
    name: String,
}

#[cfg(feature = "databases")]
impl FreshDatabase {
    /// Creates the database for `test` (no tables yet).
    ///
    /// # Panics
    /// When the server cannot be reached or refuses.
    pub async fn new(kind: DatabaseKind, test: &str) -> Self {
        let name = unique_name(test);
        let dir = tempfile::tempdir().expect("temp dir");
        let url = match kind {
            DatabaseKind::Postgres => {
                let server = postgres_url();
                admin(&server, &format!("CREATE DATABASE {name}")).await;
                with_database(&server, &name)
            }
            DatabaseKind::MySql => {
                let server = mysql_url();
                admin(&server, &format!("CREATE DATABASE {name}")).await;
                with_database(&server, &name)
            }
            DatabaseKind::Sqlite => {
                format!("sqlite://{}", dir.path().join("hammerwork.db").display())
            }
        };
        eprintln!("hammerwork-testkit: test database {url}");
        FreshDatabase {
            kind,
            url,
            dir,
            name,
        }
    }

    /// Drops the database (call after the test passed; close its pools
    /// first on MySQL, which waits for them).
    pub async fn finish(self) {
        match self.kind {
            DatabaseKind::Postgres => {
                let sql = format!("DROP DATABASE {} WITH (FORCE)", self.name);
                admin(&postgres_url(), &sql).await
            }
            DatabaseKind::MySql => {
                admin(&mysql_url(), &format!("DROP DATABASE {}", self.name)).await
            }
            DatabaseKind::Sqlite => {}
        }
    }
}

#[cfg(feature = "databases")]
fn with_database(server: &str, database: &str) -> String {
    let mut url = url::Url::parse(server).expect("server URL");
    url.set_path(&format!("/{database}"));
    url.to_string()
}

#[cfg(feature = "databases")]
async fn admin(server: &str, statement: &str) {
    use sqlx::Connection;
    if server.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(server).await.expect("connect");
        sqlx::raw_sql(statement)
            .execute(&mut conn)
            .await
            .expect(statement);
    } else {
        let mut conn = sqlx::MySqlConnection::connect(server)
            .await
            .expect("connect");
        sqlx::raw_sql(statement)
            .execute(&mut conn)
            .await
            .expect(statement);
    }
}
