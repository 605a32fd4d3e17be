//! The chaos run's short form: 10 seconds of worker processes killed with
//! SIGKILL and connections cut under load, on PostgreSQL and on MySQL, then
//! every check (`chaos --seconds 300 --db-restarts 3` is the long form, with
//! database restarts; CI runs 60 s of it).

use std::process::Command;

use hammerwork_testkit::provision::{mysql_url, postgres_url};

fn chaos(url: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_hammerwork-benches"))
        .args([
            "chaos",
            "--seconds",
            "10",
            "--workers",
            "2",
            "--db-restarts",
            "0",
        ])
        .args(["--schema", "hammerwork_chaos_test"])
        .args(["--drain-seconds", "120"])
        .env("DATABASE_URL", url)
        .output()
        .expect("run the chaos driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no report ({e}): {stdout}\n{stderr}"));
    assert!(out.status.success(), "a check failed: {line}\n{stderr}");
    assert_eq!(line["ok"], true, "{line}");
    assert!(line["kills"].as_u64().unwrap() > 0, "{line}");
    assert!(line["connections_cut"].as_u64().unwrap() > 0, "{line}");
    assert!(line["jobs"].as_u64().unwrap() > 0, "{line}");
}

#[test]
fn chaos_postgres() {
    chaos(&postgres_url());
}

#[test]
fn chaos_mysql() {
    chaos(&mysql_url());
}
