use hammerwork_api::{Error, Result};

/// The oldest servers with everything the queries use: `FOR UPDATE SKIP
/// LOCKED` (MySQL 8.0.1, MariaDB 10.6) and `JSON_TABLE` (MySQL 8.0.4,
/// MariaDB 10.6).
const MIN_MYSQL: (u32, u32, u32) = (8, 0, 4);
const MIN_MARIADB: (u32, u32, u32) = (10, 6, 0);

/// Checks `SELECT VERSION()` (e.g. `8.0.36`, `10.11.6-MariaDB-0+deb12u1`),
/// so an old server fails with a clear message at start-up rather than with a
/// syntax error at the first claim. An unparsable version is let through.
pub(crate) fn check_server_version(version: &str) -> Result<()> {
    let mariadb = version.contains("MariaDB");
    // Some proxies report MariaDB as "5.5.5-10.x.y-MariaDB".
    let number = version.strip_prefix("5.5.5-").unwrap_or(version);
    let Some(found) = parse(number) else {
        return Ok(());
    };
    let (product, minimum) = if mariadb {
        ("MariaDB", MIN_MARIADB)
    } else {
        ("MySQL", MIN_MYSQL)
    };
    if found < minimum {
        let (a, b, c) = minimum;
        return Err(Error::Config(format!(
            "{product} {version} is too old for hammerwork: it needs {product} {a}.{b}.{c} or newer"
        )));
    }
    Ok(())
}

fn parse(version: &str) -> Option<(u32, u32, u32)> {
    let numeric = version
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()?;
    let mut parts = numeric.split('.').map(str::parse::<u32>);
    Some((
        parts.next()?.ok()?,
        parts.next()?.ok()?,
        parts.next().and_then(|p| p.ok()).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_supported_servers() {
        for version in [
            "8.0.4",
            "8.0.36",
            "8.4.0-commercial",
            "9.1.0",
            "10.6.0-MariaDB",
            "10.11.6-MariaDB-0+deb12u1",
            "5.5.5-10.6.12-MariaDB-log",
            "11.4.2-MariaDB",
            "something else",
        ] {
            assert!(check_server_version(version).is_ok(), "{version}");
        }
    }

    #[test]
    fn rejects_old_servers() {
        for version in ["5.7.44", "8.0.3", "10.5.19-MariaDB", "5.5.5-10.4.1-MariaDB"] {
            assert!(
                matches!(check_server_version(version), Err(Error::Config(_))),
                "{version}"
            );
        }
    }
}
