//! A storage of whichever backend a database URL names, for tools that serve
//! any of them (the command line, the web API).

use std::sync::Arc;

use hammerwork_api::{Error, Result, Storage};

/// A connected storage of one of the compiled-in backends, picked by the
/// URL's scheme.
///
/// ```no_run
/// # async fn demo() -> hammerwork::Result<()> {
/// let any = hammerwork::AnyStorage::connect("sqlite://hammerwork.db").await?;
/// any.migrate().await?;
/// let storage = any.storage(); // Arc<dyn Storage>
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum AnyStorage {
    /// `postgres://` or `postgresql://`.
    #[cfg(feature = "postgres")]
    Postgres(crate::PostgresStorage),
    /// `mysql://` or `mariadb://`.
    #[cfg(feature = "mysql")]
    MySql(crate::MySqlStorage),
    /// `sqlite://FILE`, `sqlite:FILE` or `sqlite::memory:`.
    #[cfg(feature = "sqlite")]
    Sqlite(crate::SqliteStorage),
}

impl AnyStorage {
    /// Connects to `url`. [`Error::Config`] for a scheme no compiled-in
    /// backend takes; otherwise as the backend's `connect`.
    pub async fn connect(url: &str) -> Result<Self> {
        // Schemes are case-insensitive; the drivers want them lower case.
        let (scheme, rest) = url.split_once(':').unwrap_or((url, ""));
        let scheme = scheme.to_ascii_lowercase();
        let url = &format!("{scheme}:{rest}");
        match scheme.as_str() {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Ok(AnyStorage::Postgres(
                crate::PostgresStorage::connect(url).await?,
            )),
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                Ok(AnyStorage::MySql(crate::MySqlStorage::connect(&url).await?))
            }
            #[cfg(feature = "sqlite")]
            "sqlite" => Ok(AnyStorage::Sqlite(
                crate::SqliteStorage::connect(url).await?,
            )),
            _ => Err(Error::Config(format!(
                "no backend for a {scheme:?} URL: this build takes {}",
                Self::SCHEMES.join(", ")
            ))),
        }
    }

    /// The URL schemes this build takes.
    pub const SCHEMES: &'static [&'static str] = &[
        #[cfg(feature = "postgres")]
        "postgres://",
        #[cfg(feature = "postgres")]
        "postgresql://",
        #[cfg(feature = "mysql")]
        "mysql://",
        #[cfg(feature = "mysql")]
        "mariadb://",
        #[cfg(feature = "sqlite")]
        "sqlite://",
    ];

    /// Creates or upgrades Hammerwork's tables (idempotent).
    pub async fn migrate(&self) -> Result<()> {
        match self {
            #[cfg(feature = "postgres")]
            AnyStorage::Postgres(s) => s.migrate().await,
            #[cfg(feature = "mysql")]
            AnyStorage::MySql(s) => s.migrate().await,
            #[cfg(feature = "sqlite")]
            AnyStorage::Sqlite(s) => s.migrate().await,
            #[allow(unreachable_patterns)]
            _ => Ok(()),
        }
    }

    /// The storage, for everything else.
    pub fn storage(&self) -> Arc<dyn Storage> {
        match self {
            #[cfg(feature = "postgres")]
            AnyStorage::Postgres(s) => Arc::new(s.clone()),
            #[cfg(feature = "mysql")]
            AnyStorage::MySql(s) => Arc::new(s.clone()),
            #[cfg(feature = "sqlite")]
            AnyStorage::Sqlite(s) => Arc::new(s.clone()),
            #[allow(unreachable_patterns)]
            _ => unreachable!("no backend compiled in"),
        }
    }

    /// The backend's name: `"PostgreSQL"`, `"MySQL"` or `"SQLite"`.
    pub fn backend(&self) -> &'static str {
        match self {
            #[cfg(feature = "postgres")]
            AnyStorage::Postgres(_) => "PostgreSQL",
            #[cfg(feature = "mysql")]
            AnyStorage::MySql(_) => "MySQL",
            #[cfg(feature = "sqlite")]
            AnyStorage::Sqlite(_) => "SQLite",
            #[allow(unreachable_patterns)]
            _ => "none",
        }
    }
}
