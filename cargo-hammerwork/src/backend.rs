//! The database URL's scheme picks the backend ([`AnyStorage`]).

use hammerwork::AnyStorage;

use crate::error::{one_line, CliError, CliResult, Kind};

/// Connects to `url` (see [`AnyStorage::connect`]). An unreachable database
/// is a [`Kind::Database`] error naming the URL with its password masked; a
/// scheme no backend takes is a usage error. A SQLite file that does not
/// exist is created only when `create`.
pub(crate) async fn connect(url: &str, create: bool) -> CliResult<AnyStorage> {
    let scheme = url.split(':').next().unwrap_or_default();
    if !AnyStorage::SCHEMES
        .iter()
        .any(|s| s.trim_end_matches("://").eq_ignore_ascii_case(scheme))
    {
        return Err(CliError::new(
            Kind::Usage,
            format!(
                "unsupported database URL {}: use postgres://, mysql://, mariadb:// or sqlite://",
                masked(url)
            ),
        ));
    }
    if let Some(path) = sqlite_file(url) {
        if !create && !std::path::Path::new(path).exists() {
            return Err(CliError::new(
                Kind::Database,
                format!("no SQLite database at {path} (`cargo hammerwork migrate` creates it)"),
            ));
        }
    }
    AnyStorage::connect(url).await.map_err(|err| {
        CliError::new(
            Kind::Database,
            format!("cannot connect to {}: {}", masked(url), one_line(&err)),
        )
    })
}

/// The file a `sqlite:` URL names (`None` for an in-memory database).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or(url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// `url` with any password replaced by `***`: the URL's own, a `password`
/// query parameter, and, when the URL does not parse as one with a
/// password (a `/` in it, say), the text between `user:` and the last `@`.
pub(crate) fn masked(url: &str) -> String {
    if let Ok(mut parsed) = url::Url::parse(url) {
        let secret_query = parsed
            .query_pairs()
            .any(|(key, _)| key.eq_ignore_ascii_case("password"));
        if secret_query {
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("password") {
                        "***".to_string()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
        }
        if parsed.password().is_some() {
            let _ = parsed.set_password(Some("***"));
            return parsed.to_string();
        }
        let before_query = url.split('?').next().unwrap_or_default();
        if !before_query.contains('@') {
            return if secret_query {
                parsed.to_string()
            } else {
                url.to_string()
            };
        }
    }
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    match url[start..].rfind('@').map(|at| start + at) {
        Some(at) => match url[start..at].find(':').map(|c| start + c) {
            Some(colon) => format!("{}***{}", &url[..=colon], &url[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
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
        assert_eq!(
            masked("postgres://u:s3cret@[bad/x"),
            "postgres://u:***@[bad/x"
        );
        assert_eq!(
            masked("postgres://u:2024/Secret@127.0.0.1:5999/x"),
            "postgres://u:***@127.0.0.1:5999/x"
        );
        let query = masked("postgres://127.0.0.1:5999/x?user=app&password=hunter2");
        assert!(
            !query.contains("hunter2") && query.contains("password=***"),
            "{query}"
        );
    }

    #[test]
    fn finds_the_sqlite_file() {
        use super::sqlite_file;
        assert_eq!(sqlite_file("sqlite://jobs.db"), Some("jobs.db"));
        assert_eq!(sqlite_file("sqlite:jobs.db?mode=rwc"), Some("jobs.db"));
        assert_eq!(sqlite_file("sqlite:///var/lib/j.db"), Some("/var/lib/j.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
