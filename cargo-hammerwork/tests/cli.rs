//! The real binary against PostgreSQL, MariaDB/MySQL and SQLite: each case
//! gets a database of its own, creates its tables with `migrate`, and runs
//! every command as an operator would.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use hammerwork::spawn::{JobSpawnExt, SpawnConfig};
use hammerwork::{DatabaseQueue, Job, Storage};
use serde_json::{json, Value};

/// The workflow guide's example file, as written there.
const SPEC_JSON: &str = r#"{
  "name": "data_pipeline",
  "description": "Daily data processing pipeline",
  "failure_policy": "continue_on_failure",
  "jobs": [
    {
      "name": "extract",
      "queue": "etl_queue",
      "payload": {"source": "production_db"},
      "depends_on": []
    },
    {
      "name": "transform",
      "queue": "etl_queue", 
      "payload": {"rules": "business_logic.json"},
      "depends_on": ["extract"]
    },
    {
      "name": "load",
      "queue": "etl_queue",
      "payload": {"destination": "data_warehouse"},
      "depends_on": ["transform"]
    }
  ]
}
"#;

/// The same workflow in YAML.
const SPEC_YAML: &str = "\
name: data_pipeline
description: Daily data processing pipeline
failure_policy: continue_on_failure
jobs:
  - name: extract
    queue: etl_queue
    payload: { source: production_db }
    depends_on: []
  - name: transform
    queue: etl_queue
    payload: { rules: business_logic.json }
    depends_on: [extract]
  - name: load
    queue: etl_queue
    payload: { destination: data_warehouse }
    depends_on: [transform]
";

use hammerwork_testkit::provision::{DatabaseKind as Kind, FreshDatabase};

/// A database of the case's own, with the tables made by `migrate`.
struct TestDb {
    db: FreshDatabase,
    kind: Kind,
    url: String,
}

impl TestDb {
    async fn new(kind: Kind, case: &str) -> Self {
        let db = FreshDatabase::new(kind, case).await;
        let url = db.url.clone();
        let db = TestDb { db, kind, url };
        db.cli().arg("migrate").assert().success();
        db
    }

    /// The binary, pointed at this database, without colours.
    fn cli(&self) -> Command {
        let mut cmd = Command::cargo_bin("cargo-hammerwork").expect("binary built");
        cmd.env("DATABASE_URL", &self.url).env("NO_COLOR", "1");
        cmd
    }

    /// Runs the binary with `args` and `--json`; the parsed output.
    fn json(&self, args: &[&str]) -> Value {
        let out = self.cli().arg("--json").args(args).output().expect("runs");
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs the binary with `args`; its standard output.
    fn text(&self, args: &[&str]) -> String {
        let out = self.cli().args(args).output().expect("runs");
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    fn write(&self, file: &str, text: &str) -> String {
        let path = self.db.dir.path().join(file);
        std::fs::write(&path, text).expect("write file");
        path.display().to_string()
    }

    async fn finish(self) {
        self.db.finish().await
    }
}

/// Workers on `queues` of the case's database until they are done, the
/// spawning parents on `cli_parent`.
async fn work_on(db: &TestDb, queues: &[&str]) {
    use hammerwork_testkit::drive::work_until_idle as work;
    let spawning = Some(("cli_parent", "cli_child"));
    match hammerwork::AnyStorage::connect(&db.url).await.unwrap() {
        hammerwork::AnyStorage::Postgres(s) => work(s, queues, spawning).await,
        hammerwork::AnyStorage::MySql(s) => work(s, queues, spawning).await,
        hammerwork::AnyStorage::Sqlite(s) => work(s, queues, spawning).await,
        _ => unreachable!("every backend is compiled in"),
    }
}

/// The case's database through the library.
async fn storage_of(db: &TestDb) -> std::sync::Arc<dyn Storage> {
    match db.kind {
        Kind::Postgres => {
            std::sync::Arc::new(hammerwork::PostgresStorage::connect(&db.url).await.unwrap())
        }
        Kind::MySql => {
            std::sync::Arc::new(hammerwork::MySqlStorage::connect(&db.url).await.unwrap())
        }
        Kind::Sqlite => {
            std::sync::Arc::new(hammerwork::SqliteStorage::connect(&db.url).await.unwrap())
        }
    }
}

/// `queue pause` stops claims from the queue, in any process; `queue resume`
/// restarts them, and a worker then runs what waited.
async fn pause_and_resume_stop_and_restart_claiming(db: &TestDb) {
    let paused = db.json(&["queue", "pause", "etl_queue"]);
    assert_eq!(
        (&paused["paused"], &paused["changed"]),
        (&json!(true), &json!(true))
    );
    let again = db.json(&["queue", "pause", "etl_queue"]);
    assert_eq!(
        (&again["paused"], &again["changed"]),
        (&json!(true), &json!(false))
    );
    for i in 0..3 {
        db.json(&["job", "enqueue", "etl_queue", "--payload", &i.to_string()]);
    }
    let queues = db.json(&["queue", "list"]);
    assert_eq!(queues[0]["paused"], true, "{queues}");
    assert_eq!(queues[0]["counts"]["pending"], 3);
    let listed = db.text(&["queue", "list"]);
    assert!(listed.contains("paused"), "{listed}");

    let storage = storage_of(db).await;
    let now = chrono::Utc::now();
    let claim =
        hammerwork::ClaimParams::new("etl_queue", 10, now, now + chrono::Duration::seconds(30));
    assert!(
        storage.claim_jobs(claim).await.unwrap().is_empty(),
        "paused"
    );

    assert_eq!(db.json(&["queue", "resume", "etl_queue"])["changed"], true);
    assert_eq!(db.json(&["queue", "resume", "etl_queue"])["changed"], false);
    work_on(db, &["etl_queue"]).await;
    let queues = db.json(&["queue", "list"]);
    assert_eq!(queues[0]["paused"], false);
    assert_eq!(queues[0]["counts"]["completed"], 3, "{queues}");
}

fn as_str(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// The guide's workflow file, in JSON and in YAML, runs to completion under a
/// worker; show, status, graph and watch report it.
async fn workflow_file_runs_to_completion(db: &TestDb) {
    let json_file = db.write("workflow.json", SPEC_JSON);
    let yaml_file = db.write("workflow.yaml", SPEC_YAML);
    let mut ids = Vec::new();
    for file in [&json_file, &yaml_file] {
        let created = db.json(&["workflow", "create", "--file", file]);
        assert_eq!(created["jobs"].as_object().unwrap().len(), 3);
        ids.push(as_str(&created["id"]).to_string());
    }
    let listed = db.json(&["workflow", "list"]);
    let listed: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|w| as_str(&w["id"]))
        .collect();
    assert_eq!(listed, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let status = db.json(&["workflow", "status", &ids[0]]);
    assert_eq!(status["status"], "running");
    assert_eq!(status["stats"]["pending_jobs"], 3);

    work_on(db, &["etl_queue"]).await;

    for id in &ids {
        let status = db.json(&["workflow", "status", id]);
        assert_eq!(status["status"], "completed", "{status}");
        assert_eq!(status["stats"]["completed_jobs"], 3);
        let shown = db.json(&["workflow", "show", id]);
        assert_eq!(shown["name"], "data_pipeline");
        assert_eq!(shown["failure_policy"], "continue_on_failure");
        let jobs = shown["jobs"].as_array().unwrap();
        assert_eq!(jobs.len(), 3);
        assert!(jobs.iter().all(|j| j["status"] == "completed"));
        let dot = db.text(&["workflow", "graph", id, "--format", "dot"]);
        assert!(dot.starts_with("digraph workflow {"), "{dot}");
        assert_eq!(dot.matches(" -> ").count(), 2, "{dot}");
        let mermaid = db.text(&["workflow", "graph", id, "--format", "mermaid"]);
        assert_eq!(mermaid.matches(" --> ").count(), 2, "{mermaid}");
        let graph = db.json(&["workflow", "graph", id, "--format", "json"]);
        assert_eq!(graph["nodes"].as_array().unwrap().len(), 3, "{graph}");
        assert_eq!(db.json(&["workflow", "graph", id]), graph, "--json wins");
        // --watch on a finished workflow reports it and returns.
        let watched = db.text(&["workflow", "status", id, "--watch"]);
        assert!(watched.contains("completed"), "{watched}");
    }
    let queues = db.json(&["queue", "list"]);
    assert_eq!(queues[0]["queue"], "etl_queue");
    assert_eq!(queues[0]["counts"]["completed"], 6);
}

/// `job list --status waiting --dependency-status waiting` finds the jobs a
/// parent holds; `job show --include-dependencies` and `workflow
/// dependencies` say what they wait on, `job show --include-dependents` what
/// waits on a job; cancel and retry act.
async fn stuck_jobs_are_found_and_acted_on(db: &TestDb) {
    let file = db.write("workflow.json", SPEC_JSON);
    let created = db.json(&["workflow", "create", "--file", &file]);
    let workflow = as_str(&created["id"]).to_string();
    let (extract, transform, load) = (
        as_str(&created["jobs"]["extract"]).to_string(),
        as_str(&created["jobs"]["transform"]).to_string(),
        as_str(&created["jobs"]["load"]).to_string(),
    );
    let stuck = db.json(&[
        "job",
        "list",
        "--status",
        "waiting",
        "--dependency-status",
        "waiting",
    ]);
    let stuck: Vec<&str> = stuck
        .as_array()
        .unwrap()
        .iter()
        .map(|j| as_str(&j["id"]))
        .collect();
    assert_eq!(stuck, vec![transform.as_str(), load.as_str()]);

    let shown = db.json(&["job", "show", &load, "--include-dependencies"]);
    assert_eq!(shown["dependency_status"], "waiting");
    assert_eq!(shown["dependencies"][0]["id"], transform.as_str());
    let shown = db.json(&["job", "show", &transform, "--include-dependents"]);
    assert_eq!(shown["dependents"][0]["id"], load.as_str());
    assert_eq!(shown["dependents"].as_array().unwrap().len(), 1);
    assert!(shown.get("dependencies").is_none(), "{shown}");
    let text = db.text(&["job", "show", &load, "--include-dependents"]);
    assert!(text.contains("No job depends on it."), "{text}");
    let text = db.text(&["job", "show", &transform, "--include-dependents"]);
    assert!(
        text.contains("Jobs that depend on it:") && text.contains(&load),
        "{text}"
    );
    let parents = db.json(&["workflow", "dependencies", &transform]);
    assert_eq!(parents.as_array().unwrap().len(), 1);
    assert_eq!(parents[0]["id"], extract.as_str());
    let text = db.text(&["job", "show", &load, "--include-dependencies"]);
    assert!(
        text.contains("It depends on:") && text.contains(&transform),
        "{text}"
    );

    // Stopped with Ctrl-C while the workflow runs, --watch says so (130),
    // never "done" (0).
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-hammerwork"))
        .env("DATABASE_URL", &db.url)
        .args(["workflow", "status", &workflow, "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(watch.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    assert!(first.starts_with("running"), "{first}");
    let sent = std::process::Command::new("kill")
        .args(["-INT", &watch.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert_eq!(watch.wait().unwrap().code(), Some(130));

    // Cancelling the first job ends the chain, and the workflow with it;
    // retry puts it back.
    let cancelled = db.json(&["job", "cancel", &extract]);
    assert_eq!(cancelled["cancelled"], true);
    let again = db.json(&["job", "cancel", &extract]);
    assert_eq!(again["cancelled"], false);
    let status = db.json(&["workflow", "status", &workflow]);
    assert_eq!(status["status"], "cancelled", "{status}");
    let retried = db.json(&["workflow", "retry", &workflow]);
    assert!(retried["reset_jobs"].as_u64().unwrap() >= 1, "{retried}");
    assert_eq!(
        db.json(&["workflow", "status", &workflow])["status"],
        "running"
    );
    let cancelled = db.json(&["workflow", "cancel", &workflow]);
    assert_eq!(cancelled["cancelled"], true);
    assert_eq!(
        db.json(&["workflow", "status", &workflow])["status"],
        "cancelled"
    );
    // --watch ends at once on a finished workflow: exit 1, it did not complete.
    let out = db
        .cli()
        .args(["workflow", "status", &workflow, "--watch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cancelled"));

    // A job enqueued from the command line.
    let enqueued = db.json(&[
        "job",
        "enqueue",
        "emails",
        "--payload",
        r#"{"to":"ops@example.com"}"#,
        "--priority",
        "high",
        "--delay",
        "10m",
        "--max-attempts",
        "7",
    ]);
    let job_id = as_str(&enqueued["id"]).to_string();
    let job = db.json(&["job", "show", &job_id]);
    assert_eq!(job["payload"]["to"], "ops@example.com");
    assert_eq!(job["max_attempts"], 7);
    assert_eq!(job["status"], "pending");
    // Retry applies to a dead or cancelled job: exit 1 with the reason
    // otherwise; a workflow's job points at the workflow.
    let out = db.cli().args(["job", "retry", &job_id]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only a dead or cancelled job"));
    assert_eq!(db.json(&["job", "cancel", &job_id])["cancelled"], true);
    assert_eq!(db.json(&["job", "retry", &job_id])["retried"], true);
    assert_eq!(db.json(&["job", "show", &job_id])["status"], "pending");
    let out = db.cli().args(["job", "retry", &load]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("retry the workflow"));
    let listed = db.json(&["job", "list", "--queue", "emails"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

/// A job that spawned children: list, tree, stats and lineage show them.
async fn spawn_commands_show_a_spawned_tree(db: &TestDb) {
    let parent = Job::new("cli_parent", json!({"batch": 1}))
        .with_spawn_handler("three")
        .with_spawn_config(SpawnConfig::new().with_metadata(json!({"from": "cli test"})));
    let parent_id = parent.id.to_string();
    match db.kind {
        Kind::Postgres => {
            let s = hammerwork::PostgresStorage::connect(&db.url).await.unwrap();
            s.enqueue(parent).await.unwrap();
        }
        Kind::MySql => {
            let s = hammerwork::MySqlStorage::connect(&db.url).await.unwrap();
            s.enqueue(parent).await.unwrap();
        }
        Kind::Sqlite => {
            let s = hammerwork::SqliteStorage::connect(&db.url).await.unwrap();
            s.enqueue(parent).await.unwrap();
        }
    }
    work_on(db, &["cli_parent", "cli_child"]).await;

    let ops = db.json(&["spawn", "list", "--recent", "--limit", "20"]);
    assert_eq!(ops.as_array().unwrap().len(), 1, "{ops}");
    assert_eq!(ops[0]["parent_job_id"], parent_id.as_str());
    assert_eq!(ops[0]["child_count"], 3);
    assert_eq!(
        db.json(&["spawn", "list", "--queue", "elsewhere"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let detailed = db.text(&["spawn", "list", "--detailed"]);
    assert!(detailed.contains("cli test"), "{detailed}");

    let tree = db.json(&["spawn", "tree", &parent_id, "--format", "json"]);
    let tree_text = tree.to_string();
    assert_eq!(tree_text.matches("cli_child").count(), 3, "{tree}");
    let text = db.text(&["spawn", "tree", &parent_id]);
    assert_eq!(text.lines().count(), 4, "{text}");
    let mermaid = db.text(&["spawn", "tree", &parent_id, "--format", "mermaid"]);
    assert_eq!(mermaid.matches("-->").count(), 3, "{mermaid}");

    let stats = db.json(&["spawn", "stats", "--hours", "24", "--detailed"]);
    assert_eq!(stats["operations"], 1, "{stats}");
    assert_eq!(stats["children"], 3);
    assert_eq!(stats["queues"]["cli_parent"]["children"], 3, "{stats}");
    let other = db.json(&[
        "spawn",
        "stats",
        "--queue",
        "image_processing",
        "--hours",
        "12",
    ]);
    assert_eq!(other["operations"], 0);

    let child = as_str(&db.json(&["job", "list", "--queue", "cli_child", "--limit", "1"])[0]["id"])
        .to_string();
    let up = db.json(&["spawn", "lineage", &child, "--ancestors"]);
    assert_eq!(up["ancestors"][0]["id"], parent_id.as_str());
    assert!(up.get("descendants").is_none());
    let down = db.json(&[
        "spawn",
        "lineage",
        &parent_id,
        "--descendants",
        "--depth",
        "5",
    ]);
    assert_eq!(down["descendants"].as_array().unwrap().len(), 3);

    // monitor draws until stopped: its first frame (as JSON) shows the hour.
    let mut monitor = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-hammerwork"))
        .env("DATABASE_URL", &db.url)
        .args(["--json", "spawn", "monitor", "--interval", "1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(monitor.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    monitor.kill().unwrap();
    monitor.wait().unwrap();
    let frame: Value = serde_json::from_str(&first).expect("a JSON frame");
    assert_eq!(frame["last_hour"]["children"], 3, "{frame}");
    assert_eq!(frame["recent"].as_array().unwrap().len(), 1);
    assert_eq!(frame["recent_children"]["completed"], 3, "{frame}");
}

/// Each bad input gets one line naming the problem and its exit code, and
/// nothing is written.
async fn bad_input_writes_nothing(db: &TestDb) {
    let fails = |args: &[&str], code: i32, needle: &str| {
        let out = db.cli().args(args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: {stderr:?} lacks {needle:?}"
        );
        stderr
    };
    let cycle = db.write(
        "cycle.json",
        r#"{"name":"c","jobs":[{"name":"a","queue":"q","depends_on":["c"]},{"name":"b","queue":"q","depends_on":["a"]},{"name":"c","queue":"q","depends_on":["b"]}]}"#,
    );
    fails(&["workflow", "create", "--file", &cycle], 4, "cycle");
    let unknown = db.write(
        "unknown.yaml",
        "name: u\njobs:\n  - name: a\n    queue: q\n    depends_on: [extract]\n",
    );
    fails(
        &["workflow", "create", "--file", &unknown],
        4,
        "\"extract\"",
    );
    let bad_json = db.write(
        "bad.json",
        "{\n  \"name\": \"b\",\n  \"jobs\": [\n    {\"name\": }\n  ]\n}\n",
    );
    fails(&["workflow", "create", "--file", &bad_json], 4, "line 4");
    let bad_yaml = db.write("bad.yaml", "name: b\njobs:\n  - name: a\n    queue: [q\n");
    fails(&["workflow", "create", "--file", &bad_yaml], 4, "line");
    let bad_policy = db.write(
        "policy.json",
        r#"{"name":"p","failure_policy":"sometimes","jobs":[{"name":"a","queue":"q"}]}"#,
    );
    fails(
        &["workflow", "create", "--file", &bad_policy],
        4,
        "sometimes",
    );
    let empty_queue = db.write(
        "queue.yaml",
        "name: e\njobs:\n  - name: a\n    queue: \"\"\n",
    );
    fails(
        &["workflow", "create", "--file", &empty_queue],
        4,
        "\"a\": queue is empty",
    );
    fails(&["spawn", "stats", "--hours", "4294967295"], 2, "hours");
    fails(
        &["workflow", "create", "--file", "/nonexistent/workflow.json"],
        4,
        "cannot read",
    );
    fails(
        &["job", "enqueue", "q", "--payload", "{oops"],
        4,
        "not valid JSON",
    );
    fails(&["job", "show", "not-a-uuid"], 2, "not-a-uuid");
    fails(&["workflow", "graph", "12345"], 2, "12345");
    let unknown_id = "01930000-0000-7000-8000-000000000000";
    fails(&["job", "show", unknown_id], 3, unknown_id);
    fails(&["workflow", "status", unknown_id], 3, unknown_id);
    fails(&["spawn", "tree", unknown_id], 3, unknown_id);
    fails(&["job", "cancel", unknown_id], 3, unknown_id);
    fails(&["workflow", "show", unknown_id], 3, unknown_id);

    assert_eq!(db.json(&["workflow", "list"]), json!([]));
    assert_eq!(db.json(&["queue", "list"]), json!([]));
    assert_eq!(db.json(&["job", "list"]), json!([]));
}

/// The human tables, pinned (ids and times masked); the same on every backend.
async fn human_output_is_pinned(db: &TestDb) {
    let file = db.write("workflow.json", SPEC_JSON);
    let created = db.json(&["workflow", "create", "--file", &file]);
    let id = as_str(&created["id"]).to_string();
    let settings = {
        let mut s = insta::Settings::clone_current();
        s.add_filter(
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
        );
        s.add_filter(
            r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}",
            "YYYY-MM-DD hh:mm:ss",
        );
        s.set_prepend_module_to_snapshot(false);
        s
    };
    let shown = db.text(&["workflow", "show", &id]);
    let queues = db.text(&["queue", "list"]);
    let stuck = db.text(&["job", "list", "--status", "waiting"]);
    let status = db.text(&["workflow", "status", &id]);
    settings.bind(|| {
        insta::assert_snapshot!("workflow_show", shown);
        insta::assert_snapshot!("queue_list", queues);
        insta::assert_snapshot!("job_list_waiting", stuck);
        insta::assert_snapshot!("workflow_status", status);
    });
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = super::TestDb::new(super::Kind::Postgres, stringify!($case)).await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = super::TestDb::new(super::Kind::MySql, stringify!($case)).await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = super::TestDb::new(super::Kind::Sqlite, stringify!($case)).await;
                    super::$case(&db).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_every_backend!(
    workflow_file_runs_to_completion,
    stuck_jobs_are_found_and_acted_on,
    spawn_commands_show_a_spawned_tree,
    bad_input_writes_nothing,
    human_output_is_pinned,
    pause_and_resume_stop_and_restart_claiming,
);

/// `cargo hammerwork job list | head`: when the reader has gone, the command
/// ends quietly with status 0 (it used to panic on the closed pipe).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_pipe_ends_quietly() {
    let db = TestDb::new(Kind::Sqlite, "closed_pipe").await;
    db.cli()
        .args(["job", "enqueue", "mail", "--payload", "{}"])
        .assert()
        .success();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-hammerwork"))
        .env("DATABASE_URL", &db.url)
        .env("NO_COLOR", "1")
        .args(["job", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    // The reader goes before anything is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "{stderr}");
    db.finish().await;
}

/// No database, or one that cannot be reached: one line, exit 4 or 5, the
/// password masked.
#[test]
fn unreachable_database_is_named_with_its_password_masked() {
    let bin = || {
        let mut cmd = Command::cargo_bin("cargo-hammerwork").expect("binary built");
        cmd.env_remove("DATABASE_URL");
        cmd
    };
    let out = bin().args(["queue", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL"));

    for url in [
        "postgres://app:s3cret@127.0.0.1:1/jobs",
        "mysql://app:s3cret@127.0.0.1:1/jobs",
    ] {
        let out = bin()
            .args(["--database-url", url, "queue", "list"])
            .timeout(Duration::from_secs(10))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{url}: {stderr}");
        assert!(stderr.contains("app:***@127.0.0.1:1"), "{stderr}");
        assert!(!stderr.contains("s3cret"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    let out = bin()
        .args(["--database-url", "redis://127.0.0.1", "queue", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // A SQLite file that is not there is not created by a read (a mistyped
    // path), and one without Hammerwork's tables gets told what to run.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo.db");
    let out = bin()
        .args(["--database-url", &format!("sqlite://{}", missing.display())])
        .args(["workflow", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cargo hammerwork migrate"));
    assert!(!missing.exists(), "a read created the file");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    let out = bin()
        .args(["--database-url", &format!("sqlite://{}", empty.display())])
        .args(["job", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cargo hammerwork migrate"));

    // Run as a cargo subcommand, cargo passes the subcommand's name first.
    let out = bin().args(["hammerwork", "--version"]).output().unwrap();
    assert!(out.status.success());
    assert!(Path::new(env!("CARGO_BIN_EXE_cargo-hammerwork")).exists());
}
