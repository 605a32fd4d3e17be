//! The database URL's scheme picks the backend.

use std::sync::Arc;

use hammerwork::{MySqlStorage, PostgresStorage, SqliteStorage, Storage};

use crate::error::{one_line, CliError, CliResult, Kind};

/// A connected storage of one of the built-in backends.
pub(crate) enum Backend {
    Postgres(PostgresStorage),
    MySql(MySqlStorage),
    Sqlite(SqliteStorage),
}

impl Backend {
    /// Connects to `url`: `postgres://` or `postgresql://`, `mysql://` or
    /// `mariadb://`, `sqlite://` or `sqlite:`. An unreachable database is a
    /// [`Kind::Database`] error naming the URL with its password masked.
    pub(crate) async fn connect(url: &str) -> CliResult<Self> {
        let scheme = url.split(':').next().unwrap_or_default();
        let failed = |err: hammerwork::Error| {
            CliError::new(
                Kind::Database,
                format!("cannot connect to {}: {}", masked(url), one_line(&err)),
            )
        };
        match scheme {
            "postgres" | "postgresql" => PostgresStorage::connect(url)
                .await
                .map(Backend::Postgres)
                .map_err(failed),
            "mysql" | "mariadb" => {
                let url = url.replacen("mariadb:", "mysql:", 1);
                MySqlStorage::connect(&url)
                    .await
                    .map(Backend::MySql)
                    .map_err(failed)
            }
            "sqlite" => SqliteStorage::connect(url)
                .await
                .map(Backend::Sqlite)
                .map_err(failed),
            _ => Err(CliError::invalid(format!(
                "unsupported database URL {}: use postgres://, mysql://, mariadb:// or sqlite://",
                masked(url)
            ))),
        }
    }

    /// The storage every command works through.
    pub(crate) fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Backend::Postgres(s) => Arc::new(s.clone()),
            Backend::MySql(s) => Arc::new(s.clone()),
            Backend::Sqlite(s) => Arc::new(s.clone()),
        }
    }

    /// Creates or upgrades Hammerwork's tables.
    pub(crate) async fn migrate(&self) -> hammerwork::Result<()> {
        match self {
            Backend::Postgres(s) => s.migrate().await,
            Backend::MySql(s) => s.migrate().await,
            Backend::Sqlite(s) => s.migrate().await,
        }
    }

    /// The backend's name, for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Postgres(_) => "PostgreSQL",
            Backend::MySql(_) => "MySQL",
            Backend::Sqlite(_) => "SQLite",
        }
    }
}

/// `url` with any password replaced by `***`.
pub(crate) fn masked(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn masks_only_the_password() {
        assert_eq!(
            masked("postgres://app:s3cret@db.internal:5432/jobs"),
            "postgres://app:***@db.internal:5432/jobs"
        );
        assert_eq!(
            masked("mysql://root@127.0.0.1/test"),
            "mysql://root@127.0.0.1/test"
        );
        assert_eq!(masked("sqlite://jobs.db"), "sqlite://jobs.db");
    }
}
