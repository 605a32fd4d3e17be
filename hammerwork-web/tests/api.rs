//! The API served on an ephemeral port against PostgreSQL, MariaDB/MySQL and
//! SQLite, each case on a database of its own, exercised with a real HTTP
//! client (and the spawning guide's JavaScript client, run with node).

mod common;

use common::work_on;
use std::sync::Arc;
use std::time::Duration;

use hammerwork::spawn::{JobSpawnExt, SpawnConfig};
use hammerwork::{
    AnyStorage, DatabaseQueue, HandlerResult, Job, JobContext, Storage, StorageDatabase, Worker,
    WorkerPoolHandle,
};
use hammerwork_testkit::provision::{DatabaseKind, FreshDatabase};
use hammerwork_web::{hash_secret, router, AuthConfig, Role, TokenEntry, UserEntry, WebConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

/// The workflow guide's example file.
const SPEC_WORKFLOW: &str = include_str!("../../docs/examples/data_pipeline.json");

/// A server on its own database.
struct Server {
    db: FreshDatabase,
    any: AnyStorage,
    base: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(kind: DatabaseKind, case: &str, config: WebConfig) -> Server {
        let db = FreshDatabase::new(kind, case).await;
        let any = AnyStorage::connect(&db.url).await.expect("connect");
        any.migrate().await.expect("migrate");
        let app = router(any.storage(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Server {
            db,
            any,
            base,
            http: reqwest::Client::new(),
            task,
        }
    }

    /// GET `path`: status and JSON body.
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// POST `body` as JSON to `path`: status and JSON body.
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    async fn finish(self) {
        self.task.abort();
        drop(self.any);
        self.db.finish().await;
    }
}

/// The spawning guide's four endpoints, as its curl lines call them, and its
/// JavaScript `SpawnManager` client run unchanged with node.
async fn spawn_endpoints_answer_the_guides_client(s: &Server) {
    let parent = Job::new("web_parent", json!({"batch": 1}))
        .with_spawn_handler("three")
        .with_spawn_config(SpawnConfig::new().with_metadata(json!({"from": "web test"})));
    let parent_id = parent.id.to_string();
    s.any.storage().enqueue(parent).await.unwrap();
    work_on(&s.any, &["web_parent", "web_child"]).await;

    let (status, ops) = s.get("/api/spawn/operations?limit=50").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ops.as_array().unwrap().len(), 1, "{ops}");
    assert_eq!(ops[0]["parent_job_id"], parent_id.as_str());
    let (_, tree) = s
        .get(&format!("/api/jobs/{parent_id}/spawn-tree?format=json"))
        .await;
    assert_eq!(tree.to_string().matches("web_child").count(), 3, "{tree}");
    let (_, mermaid) = s
        .get(&format!(
            "/api/jobs/{parent_id}/spawn-tree?format=mermaid&max_depth=2"
        ))
        .await;
    assert_eq!(mermaid["format"], "mermaid");
    assert_eq!(
        mermaid["content"].as_str().unwrap().matches("-->").count(),
        3
    );
    let (_, stats) = s.get("/api/spawn/stats?queue=web_parent").await;
    assert_eq!(
        (stats["operations"].clone(), stats["children"].clone()),
        (json!(1), json!(3))
    );
    let (_, none) = s
        .get("/api/spawn/stats?queue=data_processing&hours=12")
        .await;
    assert_eq!(none["operations"], 0);
    let (_, children) = s.get(&format!("/api/jobs/{parent_id}/children")).await;
    assert_eq!(children.as_array().unwrap().len(), 3);

    // The guide's client, as printed there, against this server.
    let client = r#"
class SpawnManager {
    constructor(baseUrl) {
        this.baseUrl = baseUrl;
    }
    
    async getSpawnTree(jobId, format = 'json', maxDepth = 10) {
        const response = await fetch(
            `${this.baseUrl}/api/jobs/${jobId}/spawn-tree?format=${format}&max_depth=${maxDepth}`
        );
        return response.json();
    }
    
    async getSpawnStats(queue = null, hours = 24) {
        const params = new URLSearchParams();
        if (queue) params.append('queue', queue);
        params.append('hours', hours);
        
        const response = await fetch(`${this.baseUrl}/api/spawn/stats?${params}`);
        return response.json();
    }
    
    async getSpawnOperations(limit = 50) {
        const response = await fetch(`${this.baseUrl}/api/spawn/operations?limit=${limit}`);
        return response.json();
    }
}
"#;
    let script = format!(
        "{client}\n(async () => {{\n  const m = new SpawnManager(process.argv[1]);\n  const tree = await m.getSpawnTree(process.argv[2]);\n  const mermaid = await m.getSpawnTree(process.argv[2], 'mermaid');\n  const stats = await m.getSpawnStats('web_parent');\n  const ops = await m.getSpawnOperations();\n  console.log(JSON.stringify({{ tree, mermaid, stats, ops }}));\n}})().catch(e => {{ console.error(e); process.exit(1); }});\n"
    );
    let out = tokio::process::Command::new("node")
        .args(["-e", &script, &s.base, &parent_id])
        .output()
        .await
        .expect("node runs (Debian's nodejs)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("the client printed JSON");
    assert_eq!(seen["tree"], tree);
    assert_eq!(seen["stats"]["children"], 3);
    assert_eq!(seen["ops"].as_array().unwrap().len(), 1);
    assert!(seen["mermaid"]["content"].as_str().unwrap().contains("-->"));
}

/// Workflows, jobs and queues: create, list with filters and a cursor, show,
/// graph, act; each action's answer when it does not apply.
async fn jobs_queues_and_workflows_round_trip(s: &Server) {
    let file: Value = serde_json::from_str(SPEC_WORKFLOW).unwrap();
    let (status, created) = s.post("/api/workflows", file).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (transform, load) = (
        created["jobs"]["transform"].as_str().unwrap().to_string(),
        created["jobs"]["load"].as_str().unwrap().to_string(),
    );
    let (_, listed) = s.get("/api/workflows").await;
    assert_eq!(listed["workflows"][0]["id"], id.as_str());
    assert_eq!(listed["workflows"][0]["status"], "running");
    let (_, stuck) = s
        .get("/api/jobs?status=pending&dependency_status=waiting")
        .await;
    let stuck: Vec<&str> = stuck["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    assert_eq!(stuck, vec![transform.as_str(), load.as_str()]);
    let (_, job) = s.get(&format!("/api/jobs/{load}")).await;
    assert_eq!(job["dependencies"][0]["id"], transform.as_str());
    assert_eq!(job["dependents"], json!([]));
    let (_, middle) = s.get(&format!("/api/jobs/{transform}")).await;
    assert_eq!(middle["dependents"][0]["id"], load.as_str());
    assert_eq!(middle["dependents"].as_array().unwrap().len(), 1);
    let (_, graph) = s.get(&format!("/api/workflows/{id}/graph")).await;
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 3);
    let (_, dot) = s
        .get(&format!("/api/workflows/{id}/graph?format=dot"))
        .await;
    assert_eq!(dot["content"].as_str().unwrap().matches(" -> ").count(), 2);
    let (_, stats) = s.get(&format!("/api/workflows/{id}/stats")).await;
    assert_eq!(stats["stats"]["total_jobs"], 3);

    // Pages: a cursor walks the jobs in id order.
    let (_, first) = s.get("/api/jobs?limit=2").await;
    let after = first["next_after"].as_str().unwrap().to_string();
    let (_, second) = s.get(&format!("/api/jobs?limit=2&after={after}")).await;
    assert_eq!(second["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_after"], Value::Null);

    // A job of its own: create, cancel (twice: 409), retry.
    let (status, made) = s
        .post(
            "/api/jobs",
            json!({"queue": "emails", "payload": {"to": "ops@example.com"}, "priority": "high", "delay_ms": 600000, "max_attempts": 7}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let job = made["id"].as_str().unwrap().to_string();
    let (_, shown) = s.get(&format!("/api/jobs/{job}")).await;
    assert_eq!(
        (shown["max_attempts"].clone(), shown["status"].clone()),
        (json!(7), json!("pending"))
    );
    let (status, retry) = s.post(&format!("/api/jobs/{job}/retry"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{retry}");
    assert_eq!(retry["error"]["code"], "conflict");
    let (status, _) = s.post(&format!("/api/jobs/{job}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, again) = s.post(&format!("/api/jobs/{job}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (status, _) = s.post(&format!("/api/jobs/{job}/retry"), json!({})).await;
    assert_eq!(status, StatusCode::OK);

    // Queues: counts, pause and resume.
    let (_, paused) = s.post("/api/queues/etl_queue/pause", json!({})).await;
    assert_eq!(
        (paused["paused"].clone(), paused["changed"].clone()),
        (json!(true), json!(true))
    );
    let (_, queues) = s.get("/api/queues").await;
    let etl = queue_in(&queues, "etl_queue");
    assert_eq!(
        (etl["paused"].clone(), etl["counts"]["pending"].clone()),
        (json!(true), json!(3))
    );
    let (_, resumed) = s.post("/api/queues/etl_queue/resume", json!({})).await;
    assert_eq!(
        (resumed["paused"].clone(), resumed["changed"].clone()),
        (json!(false), json!(true))
    );
    // The counts are a shared snapshot, but an action through the API drops
    // it: the next read shows the resume, and says when it was read.
    let response = s
        .http
        .get(format!("{}/api/queues", s.base))
        .send()
        .await
        .unwrap();
    let as_of = response.headers()["hammerwork-counts-as-of"]
        .to_str()
        .unwrap()
        .to_string();
    chrono::DateTime::parse_from_rfc3339(&as_of).expect("an RFC 3339 time");
    let queues: Value = response.json().await.unwrap();
    let etl = queue_in(&queues, "etl_queue");
    assert_eq!(etl["paused"], json!(false), "{queues}");

    // The workflow runs; then cancel does not apply, retry finds nothing.
    work_on(&s.any, &["etl_queue"]).await;
    let (_, done) = s.get(&format!("/api/workflows/{id}")).await;
    assert_eq!(done["status"], "completed", "{done}");
    let (status, _) = s
        .post(&format!("/api/workflows/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, retried) = s
        .post(&format!("/api/workflows/{id}/retry"), json!({}))
        .await;
    assert_eq!(
        (status, retried["reset_jobs"].clone()),
        (StatusCode::OK, json!(0))
    );

    // Throughput: the counts read before the workflow ran and after (the
    // actions above dropped the snapshot) show its three completions.
    let (_, queues) = s.get("/api/queues").await;
    let etl = queue_in(&queues, "etl_queue");
    assert_eq!(etl["counts"]["completed"], json!(3), "{queues}");
    let (status, throughput) = s.get("/api/queues/throughput").await;
    assert_eq!(status, StatusCode::OK);
    assert!(throughput["since"].is_string(), "{throughput}");
    let minutes = throughput["minutes"].as_array().unwrap();
    let sum = |field: &str| {
        minutes
            .iter()
            .map(|m| m[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!((sum("completed"), sum("failed")), (3, 0), "{throughput}");
}

/// The entry of `queue` in a `GET /api/queues` answer.
fn queue_in<'a>(queues: &'a Value, queue: &str) -> &'a Value {
    queues
        .as_array()
        .expect("a list of queues")
        .iter()
        .find(|q| q["queue"] == queue)
        .unwrap_or_else(|| panic!("no {queue} in {queues}"))
}

/// Bad requests: JSON errors with the right status, nothing written.
async fn bad_requests_get_json_errors(s: &Server) {
    let (status, health) = s.get("/health").await;
    assert_eq!(
        (status, health["status"].clone()),
        (StatusCode::OK, json!("ok"))
    );
    let expect = |(status, body): (StatusCode, Value), want: StatusCode, needle: &str| {
        assert_eq!(status, want, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(body["error"]["code"].is_string(), "{body}");
        assert!(message.contains(needle), "{message:?} lacks {needle:?}");
    };
    expect(
        s.get("/api/jobs/not-a-uuid").await,
        StatusCode::BAD_REQUEST,
        "not-a-uuid",
    );
    let unknown = "01930000-0000-7000-8000-000000000000";
    expect(
        s.get(&format!("/api/jobs/{unknown}")).await,
        StatusCode::NOT_FOUND,
        unknown,
    );
    expect(
        s.get(&format!("/api/workflows/{unknown}")).await,
        StatusCode::NOT_FOUND,
        unknown,
    );
    expect(
        s.get(&format!("/api/jobs/{unknown}/spawn-tree")).await,
        StatusCode::NOT_FOUND,
        unknown,
    );
    expect(
        s.get("/api/jobs?status=stuck").await,
        StatusCode::BAD_REQUEST,
        "stuck",
    );
    expect(
        s.get("/api/jobs?limit=-1").await,
        StatusCode::BAD_REQUEST,
        "limit",
    );
    expect(
        s.get("/api/spawn/stats?hours=0").await,
        StatusCode::BAD_REQUEST,
        "hours",
    );
    expect(
        s.get("/api/nowhere").await,
        StatusCode::NOT_FOUND,
        "endpoint",
    );
    let cycle = json!({"name": "c", "jobs": [
        {"name": "a", "queue": "q", "depends_on": ["c"]},
        {"name": "b", "queue": "q", "depends_on": ["a"]},
        {"name": "c", "queue": "q", "depends_on": ["b"]}]});
    expect(
        s.post("/api/workflows", cycle).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "cycle",
    );
    let missing =
        json!({"name": "m", "jobs": [{"name": "a", "queue": "q", "depends_on": ["extract"]}]});
    expect(
        s.post("/api/workflows", missing).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "\"extract\"",
    );
    expect(
        s.post("/api/workflows", json!({"name": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "jobs",
    );
    expect(
        s.post("/api/jobs", json!({"queue": "q", "priority": "urgent"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "urgent",
    );
    // Malformed JSON; not JSON at all; from another site.
    let raw = |body: &'static str, content_type: &'static str| {
        s.http
            .post(format!("{}/api/jobs", s.base))
            .header("content-type", content_type)
            .body(body)
    };
    let answer = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json::<Value>().await.unwrap())
    };
    expect(
        answer(raw("{\"queue\": ", "application/json")).await,
        StatusCode::BAD_REQUEST,
        "",
    );
    expect(
        answer(raw("queue=q", "application/x-www-form-urlencoded")).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "application/json",
    );
    expect(
        answer(
            raw("{\"queue\": \"q\"}", "application/json").header("sec-fetch-site", "cross-site"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "this site",
    );
    expect(
        answer(
            raw("{\"queue\": \"q\"}", "application/json").header("origin", "https://evil.example"),
        )
        .await,
        StatusCode::FORBIDDEN,
        "this site",
    );
    let (_, jobs) = s.get("/api/jobs").await;
    assert_eq!(jobs["jobs"], json!([]), "nothing was written");
    let (_, workflows) = s.get("/api/workflows").await;
    assert_eq!(workflows["workflows"], json!([]));
}

macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let s = super::Server::start(super::DatabaseKind::Postgres, stringify!($case), super::config_for(stringify!($case))).await;
                super::$case(&s).await;
                s.finish().await;
            }
        )* }
        mod mysql { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let s = super::Server::start(super::DatabaseKind::MySql, stringify!($case), super::config_for(stringify!($case))).await;
                super::$case(&s).await;
                s.finish().await;
            }
        )* }
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let s = super::Server::start(super::DatabaseKind::Sqlite, stringify!($case), super::config_for(stringify!($case))).await;
                super::$case(&s).await;
                s.finish().await;
            }
        )* }
    };
}

on_every_backend!(
    spawn_endpoints_answer_the_guides_client,
    jobs_queues_and_workflows_round_trip,
    bad_requests_get_json_errors,
    credentials_and_roles_are_enforced,
    malformed_input_changes_nothing,
    events_follow_jobs_workflows_and_queues,
);

const READ_TOKEN: &str = "read-token-0123456789abcdef";
const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";
const LISTED_ORIGIN: &str = "https://ops.example.com";

/// The configuration a case runs with: the security cases ask for
/// credentials, a listed origin and a small body limit.
fn config_for(case: &str) -> WebConfig {
    if case == "events_follow_jobs_workflows_and_queues" {
        return WebConfig::default().with_events_interval(Duration::from_millis(100));
    }
    if case != "credentials_and_roles_are_enforced" {
        return WebConfig::default();
    }
    let auth = AuthConfig {
        tokens: vec![
            TokenEntry {
                hash: hash_secret(READ_TOKEN),
                role: Role::ReadOnly,
                name: Some("dashboard".into()),
            },
            TokenEntry {
                hash: hash_secret(ADMIN_TOKEN),
                role: Role::Admin,
                name: None,
            },
        ],
        users: vec![UserEntry {
            name: "ops".into(),
            hash: hash_secret("ops-password-0123456789"),
            role: Role::Admin,
        }],
    };
    WebConfig::default()
        .with_body_limit(4096)
        .with_auth(auth)
        .unwrap()
        .with_cors_origins([LISTED_ORIGIN])
        .unwrap()
}

/// No credential 401 (with a challenge), a wrong one 401, a read-only one
/// reads but may not act (403), admin tokens and basic users act; a
/// cross-site action is 403 even with a token unless its origin is listed;
/// CORS answers listed origins only; 413 and 415 still hold behind auth.
async fn credentials_and_roles_are_enforced(s: &Server) {
    let url = |path: &str| format!("{}{path}", s.base);
    let send = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await.unwrap();
        let status = response.status();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_string());
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, challenge, body)
    };
    let job = json!({"queue": "secured", "payload": {"n": 1}});

    assert_eq!(
        s.get("/health").await.0,
        StatusCode::OK,
        "health stays open"
    );
    let (status, challenge, body) = send(s.http.get(url("/api/jobs"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(challenge.unwrap().contains("Bearer"));
    let (status, _, _) = send(s.http.get(url("/api/jobs")).bearer_auth("wrong-token")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(s.http.post(url("/api/jobs")).json(&job)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Read-only: reads, twice (the second from memory), but no action.
    for _ in 0..2 {
        let (status, _, body) = send(s.http.get(url("/api/queues")).bearer_auth(READ_TOKEN)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, _, body) = send(
        s.http
            .post(url("/api/jobs"))
            .bearer_auth(READ_TOKEN)
            .json(&job),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("admin"));
    let (status, _, _) = send(
        s.http
            .post(url("/api/queues/secured/pause"))
            .bearer_auth(READ_TOKEN)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(s.any.storage().paused_queues().await.unwrap().is_empty());

    // Admin by token and by basic auth; a wrong password is 401.
    let (status, _, body) = send(
        s.http
            .post(url("/api/jobs"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&job),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _, body) = send(
        s.http
            .post(url("/api/jobs"))
            .basic_auth("ops", Some("ops-password-0123456789"))
            .json(&job),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, challenge, _) = send(
        s.http
            .get(url("/api/jobs"))
            .basic_auth("ops", Some("guess")),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.unwrap().contains("Basic"));

    // From a browser on another site: refused, unless the origin is listed.
    let (status, _, body) = send(
        s.http
            .post(url("/api/jobs"))
            .bearer_auth(ADMIN_TOKEN)
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .json(&job),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let response = s
        .http
        .post(url("/api/jobs"))
        .bearer_auth(ADMIN_TOKEN)
        .header("origin", LISTED_ORIGIN)
        .header("sec-fetch-site", "cross-site")
        .json(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        LISTED_ORIGIN
    );
    for (origin, allowed) in [(LISTED_ORIGIN, true), ("https://evil.example", false)] {
        let preflight = s
            .http
            .request(reqwest::Method::OPTIONS, url("/api/jobs"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success(), "{}", preflight.status());
        let granted = preflight
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(granted.as_deref() == Some(origin), allowed, "{origin}");
    }

    // Behind auth, 413 and 415 as before.
    let big = json!({"queue": "secured", "payload": "x".repeat(10_000)});
    let (status, _, _) = send(
        s.http
            .post(url("/api/jobs"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&big),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, _, _) = send(
        s.http
            .post(url("/api/jobs"))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let counts = s.any.storage().queue_counts("secured").await.unwrap();
    assert_eq!(counts.pending, 3, "the three admin creations, nothing else");
}

/// Strings a careless server would put in SQL or choke on.
fn hostile_strings() -> Vec<String> {
    let seeds = [
        "'",
        "\"",
        "' OR '1'='1",
        "1; DROP TABLE hammerwork_jobs; --",
        "x' UNION SELECT * FROM hammerwork_jobs --",
        "%",
        "_",
        "\\",
        "\u{0}",
        "0193abcd-0000-7000-8000-00000000000g",
        "01930000-0000-7000-8000-0000000000000",
        "{}",
        "[]",
        "null",
        "-1",
        "99999999999999999999",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "🦀",
        " ",
    ];
    let mut out = Vec::with_capacity(1000);
    let mut i = 0usize;
    while out.len() < 1000 {
        let a = seeds[i % seeds.len()];
        let b = seeds[(i / seeds.len()) % seeds.len()];
        out.push(format!("{a}{i}{b}"));
        i += 1;
    }
    out
}

/// A thousand malformed ids and filter values, SQL metacharacters among
/// them: each answered 400 with a JSON error, and the database unchanged.
async fn malformed_input_changes_nothing(s: &Server) {
    let storage = s.any.storage();
    let kept = storage
        .enqueue(Job::new("kept", json!({"n": 1})))
        .await
        .unwrap();
    let before = storage.get_job(kept).await.unwrap().unwrap();
    let encode = |text: &str| {
        text.bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>()
    };
    let hostile = hostile_strings();
    assert_eq!(hostile.len(), 1000);
    for (i, text) in hostile.iter().enumerate() {
        let e = encode(text);
        let (method, path) = match i % 10 {
            0 => ("GET", format!("/api/jobs/{e}")),
            1 => ("POST", format!("/api/jobs/{e}/cancel")),
            2 => ("POST", format!("/api/workflows/{e}/retry")),
            3 => ("GET", format!("/api/workflows/{e}/graph")),
            4 => ("GET", format!("/api/jobs?status={e}")),
            5 => ("GET", format!("/api/jobs?dependency_status={e}")),
            6 => ("GET", format!("/api/jobs?workflow={e}")),
            7 => ("GET", format!("/api/jobs?after={e}")),
            8 => ("GET", format!("/api/spawn/stats?hours={e}")),
            _ => ("GET", format!("/api/jobs/{e}/spawn-tree?format={e}")),
        };
        let request = match method {
            "GET" => s.http.get(format!("{}{path}", s.base)),
            _ => s.http.post(format!("{}{path}", s.base)).json(&json!({})),
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{path}: {body}");
    }
    let after = storage.get_job(kept).await.unwrap().unwrap();
    assert_eq!(after.status, before.status);
    let jobs = storage
        .list_jobs(hammerwork::ListJobsParams::new())
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "nothing written, nothing deleted");
    assert!(storage
        .list_workflows(hammerwork::ListWorkflowsParams::new())
        .await
        .unwrap()
        .is_empty());
}

/// Page sizes are cut to the configured page; an oversized body is 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold() {
    let config = WebConfig::default().with_max_page(2).with_body_limit(256);
    let s = Server::start(DatabaseKind::Sqlite, "limits_hold", config).await;
    for i in 0..3 {
        let (status, _) = s
            .post("/api/jobs", json!({"queue": "q", "payload": i}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, page) = s.get("/api/jobs?limit=1000").await;
    assert_eq!(page["jobs"].as_array().unwrap().len(), 2);
    let big = json!({"queue": "q", "payload": "x".repeat(1000)});
    let (status, body) = s.post("/api/jobs", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    s.finish().await;
}

/// `/health` says 503 once the database is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_fails_when_the_database_does() {
    let s = Server::start(DatabaseKind::Postgres, "health_fails", WebConfig::default()).await;
    assert_eq!(s.get("/health").await.0, StatusCode::OK);
    let Server {
        db,
        any,
        base,
        http,
        task,
    } = s;
    db.finish().await; // drops the database, ending the pool's connections
    let response = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    task.abort();
    drop(any);
}

/// Waits for the binary on `port` to answer `/health`.
async fn wait_for_health(http: &reqwest::Client, port: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = http
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await
        {
            assert_eq!(response.status(), StatusCode::OK);
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary refuses to serve other hosts without authentication (and a
/// malformed hash), serves a loopback address open, and any address with
/// the tokens of its configuration file, hashed by `hash-secret`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_others_only_with_credentials() {
    let bin = env!("CARGO_BIN_EXE_hammerwork-web");
    let out = tokio::process::Command::new(bin)
        .args(["--database-url", "sqlite::memory:", "--bind", "0.0.0.0:0"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without authentication"));

    let dir = tempfile_dir();
    let url = format!("sqlite://{}/web.db", dir.display());
    let http = reqwest::Client::new();
    let port = free_port();
    let mut open = tokio::process::Command::new(bin)
        .args(["--database-url", &url, "--migrate"])
        .args(["--bind", &format!("127.0.0.1:{port}")])
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for_health(&http, port).await;
    let jobs = http
        .get(format!("http://127.0.0.1:{port}/api/jobs"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        jobs.status(),
        StatusCode::OK,
        "loopback without config is open"
    );
    open.kill().await.unwrap();

    // hash-secret reads the token from standard input.
    let mut hashing = tokio::process::Command::new(bin)
        .arg("hash-secret")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = hashing.stdin.take().unwrap();
    stdin
        .write_all(format!("{ADMIN_TOKEN}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let hashed = hashing.wait_with_output().await.unwrap();
    assert!(hashed.status.success());
    let hash = String::from_utf8(hashed.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[auth.tokens]]\nrole = \"admin\"\nhash = \"plain-text\"\n",
    )
    .unwrap();
    let out = tokio::process::Command::new(bin)
        .args(["--database-url", &url, "--bind", "0.0.0.0:0", "--config"])
        .arg(&bad)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("malformed hash"));

    let good = dir.join("web.toml");
    std::fs::write(
        &good,
        format!("[[auth.tokens]]\nrole = \"admin\"\nhash = \"{hash}\"\n"),
    )
    .unwrap();
    let port = free_port();
    let mut secured = tokio::process::Command::new(bin)
        .args(["--database-url", &url])
        .args(["--bind", &format!("0.0.0.0:{port}"), "--config"])
        .arg(&good)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for_health(&http, port).await;
    let jobs = format!("http://127.0.0.1:{port}/api/jobs");
    let refused = http.get(&jobs).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let allowed = http
        .get(&jobs)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    secured.kill().await.unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hammerwork-web-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A worker on `queue` whose handler waits for a permit of `gate` per job.
fn gated_worker(any: &AnyStorage, queue: &str, gate: Arc<Semaphore>) -> WorkerPoolHandle {
    fn start<S: Storage + Clone + StorageDatabase>(
        storage: S,
        queue: &str,
        gate: Arc<Semaphore>,
    ) -> WorkerPoolHandle {
        Worker::new(storage, queue, move |_ctx: JobContext| {
            let gate = gate.clone();
            async move {
                gate.acquire().await.expect("gate open").forget();
                HandlerResult::Ok(None)
            }
        })
        .start()
    }
    match any {
        AnyStorage::Postgres(s) => start(s.clone(), queue, gate),
        AnyStorage::MySql(s) => start(s.clone(), queue, gate),
        AnyStorage::Sqlite(s) => start(s.clone(), queue, gate),
        _ => unreachable!("every backend is compiled in"),
    }
}

/// An open `GET /api/events` stream, read event by event.
struct Events {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    pending: String,
    /// Every event read so far, in order.
    seen: Vec<(String, Value)>,
}

impl Events {
    async fn open(s: &Server) -> Events {
        let response = s
            .http
            .get(format!("{}/api/events", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Events {
            body: Box::pin(response.bytes_stream()),
            pending: String::new(),
            seen: Vec::new(),
        }
    }

    /// The next event (name, JSON data), keep-alive comments skipped.
    async fn next(&mut self) -> (String, Value) {
        use futures::StreamExt;
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if !name.is_empty() {
                    let event = (name, serde_json::from_str::<Value>(&data).unwrap());
                    self.seen.push(event.clone());
                    return event;
                }
                continue;
            }
            let chunk = self.body.next().await.expect("the stream ended").unwrap();
            self.pending.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The first event so far that satisfies `wanted`, else reads until one
    /// does (at most 30 s): one poll may send events in another order than
    /// they happened (a job's start before its parent's end).
    async fn until(&mut self, what: &str, wanted: impl Fn(&str, &Value) -> bool) -> Value {
        if let Some((_, data)) = self.seen.iter().find(|(n, d)| wanted(n, d)) {
            return data.clone();
        }
        let found = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let (name, data) = self.next().await;
                if wanted(&name, &data) {
                    return data;
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("no event: {what}"))
    }
}

/// The event stream starts with the queues, then shows a job running and
/// what it became, its workflow's progress to completion, and new counts.
async fn events_follow_jobs_workflows_and_queues(s: &Server) {
    let mut events = Events::open(s).await;
    let (name, first) = events.next().await;
    assert_eq!((name.as_str(), first), ("queues", json!([])));

    let file = json!({"name": "evented", "jobs": [
        {"name": "first", "queue": "ev", "payload": {}},
        {"name": "second", "queue": "ev", "payload": {}, "depends_on": ["first"]}]});
    let (status, created) = s.post("/api/workflows", file).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let first_job = created["jobs"]["first"].as_str().unwrap().to_string();
    let second_job = created["jobs"]["second"].as_str().unwrap().to_string();
    let workflow = created["id"].as_str().unwrap().to_string();
    events
        .until("a pending job in the queue counts", |name, data| {
            name == "queues" && data[0]["queue"] == "ev" && data[0]["counts"]["pending"] == 2
        })
        .await;

    let gate = Arc::new(Semaphore::new(0));
    let worker = gated_worker(&s.any, "ev", gate.clone());
    events
        .until("the first job running", |name, data| {
            name == "job" && data["id"] == first_job.as_str() && data["status"] == "running"
        })
        .await;
    gate.add_permits(1);
    events
        .until("the first job completed", |name, data| {
            name == "job" && data["id"] == first_job.as_str() && data["status"] == "completed"
        })
        .await;
    events
        .until("the second job running", |name, data| {
            name == "job" && data["id"] == second_job.as_str() && data["status"] == "running"
        })
        .await;
    gate.add_permits(1);
    let done = events
        .until("the workflow completed", |name, data| {
            name == "workflow" && data["id"] == workflow.as_str() && data["status"] == "completed"
        })
        .await;
    assert_eq!(done["stats"]["completed_jobs"], 2, "{done}");
    events
        .until("both jobs completed in the counts", |name, data| {
            name == "queues" && data[0]["counts"]["completed"] == 2
        })
        .await;
    worker.shutdown().await;
}

/// `/api/openapi.json` is OpenAPI 3.1 and names every route the server has
/// (21 paths); the API changes things with POST only, and every POST it
/// documents refuses a body that is not JSON (415) while every documented
/// GET answers (never 404 "no such endpoint" or 405).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_the_routes() {
    let s = Server::start(DatabaseKind::Sqlite, "openapi", WebConfig::default()).await;
    let (status, doc) = s.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 21, "{:?}", paths.keys().collect::<Vec<_>>());
    let id = "01930000-0000-7000-8000-000000000000";
    for (path, item) in paths {
        let url = format!(
            "{}{}",
            s.base,
            path.replace("{id}", id).replace("{queue}", "q")
        );
        for (method, operation) in item.as_object().unwrap() {
            assert!(
                operation["responses"]["400"].is_object(),
                "{method} {path} documents its errors"
            );
            match method.as_str() {
                "get" if path != "/api/events" => {
                    let response = s.http.get(&url).send().await.unwrap();
                    let status = response.status();
                    let body = response.text().await.unwrap();
                    assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "GET {path}");
                    assert!(!body.contains("no such endpoint"), "GET {path}: {body}");
                }
                "get" => {}
                "post" => {
                    let response = s
                        .http
                        .post(&url)
                        .header("content-type", "text/plain")
                        .body("{}")
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(
                        response.status(),
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "POST {path}"
                    );
                }
                other => panic!("{other} {path}: the guard checks POST only"),
            }
        }
    }
    // An undeclared method is 405, not a content check.
    let put = s
        .http
        .put(format!("{}/api/queues", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
    s.finish().await;
}
