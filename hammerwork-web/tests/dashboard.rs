//! The dashboard in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver, against a live server on
//! PostgreSQL and SQLite: counts, live workflow colours, a growing spawn
//! tree, actions from the page, not-found pages, and a 1,000-job workflow
//! laid out within a second. Screenshots of every page, light and dark, at
//! desktop width and at 375 px, go to `target/dashboard-screenshots/`.

mod common;

use common::work_on;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hammerwork::spawn::JobSpawnExt;
use hammerwork::{AnyStorage, DatabaseQueue, Job, JobGroup, JobId, JobStatus, Storage};
use hammerwork_testkit::provision::{DatabaseKind, FreshDatabase};
use hammerwork_web::{hash_secret, router, AuthConfig, Role, TokenEntry, WebConfig};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

/// Browser tests share the machine's two cores: the layout timing runs
/// alone (write), the others together (read).
static BROWSERS: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// How long a poll of the page waits for what it expects.
const WITHIN: Duration = Duration::from_secs(20);

/// Where the screenshots go.
fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// `chromedriver` on a free port, killed on drop.
struct Driver {
    child: tokio::process::Child,
    url: String,
}

impl Driver {
    async fn start() -> Driver {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        // In a process group of its own, with the browsers it starts: a
        // failed test that never closed its session still ends them all.
        let child = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start chromedriver ({err}): install Debian's chromium and \
                     chromium-driver (apt-get install chromium chromium-driver); .ci/run does"
                )
            });
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WITHIN;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Driver { child, url }
    }

    /// A headless browser, dark or light, `width` pixels wide.
    async fn browser(&self, dark: bool, width: u32) -> Client {
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            // No connections of its own (updates, sync, field trials, QUIC
            // probes): the tests need loopback only, and a closed network
            // refuses those by the dozen.
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            format!("--window-size={width},900"),
        ];
        if dark {
            args.push("--force-dark-mode".into());
            args.push("--blink-settings=preferredColorScheme=0".into());
        } else {
            args.push("--blink-settings=preferredColorScheme=1".into());
        }
        let mut caps = serde_json::Map::new();
        let mut options = json!({ "binary": "/usr/bin/chromium", "args": args });
        if width < 500 {
            // Below the smallest window a headless browser opens: a phone's
            // viewport, emulated.
            options["mobileEmulation"] =
                json!({ "deviceMetrics": { "width": width, "height": 812, "pixelRatio": 1 } });
        }
        caps.insert("goog:chromeOptions".into(), options);
        // chromedriver speaks plain HTTP on loopback: no TLS.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a chromium session");
        let dark_now = client
            .execute(
                "return matchMedia('(prefers-color-scheme: dark)').matches",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(dark_now, json!(dark), "the browser's colour scheme");
        client
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.child.id().filter(|&pid| pid > 1) {
            let _ = std::process::Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{pid}")])
                .status();
        }
        let _ = self.child.start_kill();
    }
}

/// The server on its own database.
struct Site {
    db: FreshDatabase,
    any: AnyStorage,
    base: String,
    backend: &'static str,
    task: tokio::task::JoinHandle<()>,
}

impl Site {
    async fn start(kind: DatabaseKind, backend: &'static str, case: &str) -> Site {
        let config = WebConfig::default().with_events_interval(Duration::from_millis(100));
        Site::with_config(kind, backend, case, config).await
    }

    async fn with_config(
        kind: DatabaseKind,
        backend: &'static str,
        case: &str,
        config: WebConfig,
    ) -> Site {
        let db = FreshDatabase::new(kind, case).await;
        let any = AnyStorage::connect(&db.url).await.expect("connect");
        any.migrate().await.expect("migrate");
        let app = router(any.storage(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Site {
            db,
            any,
            base,
            backend,
            task,
        }
    }

    fn storage(&self) -> std::sync::Arc<dyn Storage> {
        self.any.storage()
    }

    async fn finish(self) {
        self.task.abort();
        self.db.finish().await;
    }
}

/// Runs `script` (a function body returning a value) until it returns what
/// `accept` takes, for at most [`WITHIN`]; the accepted value.
async fn until(
    client: &Client,
    what: &str,
    script: &str,
    accept: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + WITHIN;
    let mut last = Value::Null;
    while Instant::now() < deadline {
        last = client.execute(script, vec![]).await.unwrap_or(Value::Null);
        if accept(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: still {last} after {WITHIN:?}");
}

/// Opens `route` (the part after `#`) in a fresh load of the page and waits
/// for `page` to be drawn with its data.
async fn open(client: &Client, site: &Site, route: &str, page: &str) {
    client
        .goto(&format!("{}/#{route}", site.base))
        .await
        .expect("navigate");
    client.refresh().await.expect("reload");
    until(
        client,
        &format!("the {page} page at #{route}"),
        "const m = document.getElementById('main'); return m.dataset.ready ? m.dataset.page : null",
        |v| v == page,
    )
    .await;
}

/// A page's text content of the element `css` (or null).
fn text_of(css: &str) -> String {
    format!(
        "const e = document.querySelector({}); return e ? e.textContent.trim() : null",
        json!(css)
    )
}

/// Clicks the element `css`, found again if a live update replaced it
/// between finding and clicking (a bounded number of times).
async fn click(client: &Client, css: &str) {
    let mut tries = 0;
    loop {
        let element = client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("{css}: {err}"));
        match element.click().await {
            Ok(()) => return,
            Err(err) if tries < 5 && err.to_string().contains("stale element") => tries += 1,
            Err(err) => panic!("click {css}: {err}"),
        }
    }
}

async fn status_of(storage: &dyn Storage, id: JobId) -> JobStatus {
    storage.get_job(id).await.unwrap().unwrap().status
}

/// Polls the database until `id` is in `status`.
async fn until_status(storage: &dyn Storage, id: JobId, status: JobStatus) {
    let deadline = Instant::now() + WITHIN;
    while status_of(storage, id).await != status {
        assert!(Instant::now() < deadline, "job {id} never became {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn is_paused(storage: &dyn Storage, queue: &str) -> bool {
    storage
        .paused_queues()
        .await
        .unwrap()
        .iter()
        .any(|q| q == queue)
}

/// Polls the database until `queue` is paused (or, with `false`, resumed).
async fn until_paused(storage: &dyn Storage, queue: &str, paused: bool) {
    let deadline = Instant::now() + WITHIN;
    while is_paused(storage, queue).await != paused {
        assert!(
            Instant::now() < deadline,
            "{queue} never became {}",
            if paused { "paused" } else { "resumed" }
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The node statuses of the drawn workflow graph, by job id.
const NODE_STATUSES: &str = "const out = {}; \
    for (const n of document.querySelectorAll('svg.graph .node[data-id]')) out[n.dataset.id] = n.dataset.status; \
    return out";

async fn screenshots(driver: &Driver, site: &Site, pages: &[(&str, &str, &str)]) {
    let dir = screenshot_dir();
    for (dark, theme) in [(false, "light"), (true, "dark")] {
        for width in [1280u32, 375] {
            let client = driver.browser(dark, width).await;
            for (name, route, page) in pages {
                open(&client, site, route, page).await;
                // The live feed connected: the header shows it.
                until(
                    &client,
                    "the live feed",
                    "return document.querySelector('#live.on') ? 1 : 0",
                    |v| v == 1,
                )
                .await;
                let png = client.screenshot().await.expect("screenshot");
                let file = dir.join(format!("{}-{name}-{theme}-{width}.png", site.backend));
                std::fs::write(&file, png).expect("write the screenshot");
                // Usable at this width: the page itself never scrolls
                // sideways (wide tables and graphs scroll in their boxes).
                let widths = client
                    .execute(
                        "const d = document.documentElement; \
                         const wide = [...document.querySelectorAll('body *')] \
                           .filter(e => e.getBoundingClientRect().right > d.clientWidth + 1) \
                           .slice(0, 3).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 60)); \
                         for (const e of document.querySelectorAll('body, body > *, main > *')) \
                           if (e.scrollWidth > d.clientWidth) wide.push(e.tagName + '#' + e.id + '.' + e.className + ' ' + e.scrollWidth); \
                         return [d.clientWidth, d.scrollWidth, wide]",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert!(
                    widths[0].as_u64() <= Some(u64::from(width)) && widths[1] == widths[0],
                    "{name} at {width} px: [viewport, content, what overflows] {widths}"
                );
            }
            client.close().await.unwrap();
        }
    }
}

async fn dashboard_follows_the_database(kind: DatabaseKind, backend: &'static str) {
    let _shared = BROWSERS.read().await;
    let site = Site::start(kind, backend, "dashboard_follows_the_database").await;
    let storage = site.storage();
    let driver = Driver::start().await;
    let client = driver.browser(false, 1280).await;

    // The overview shows each queue's counts.
    for i in 0..3 {
        storage
            .enqueue(Job::new("mail", json!({ "n": i })))
            .await
            .unwrap();
    }
    storage
        .enqueue(Job::new("reports", json!({})).with_delay(Duration::from_secs(3600)))
        .await
        .unwrap();
    open(&client, &site, "/", "overview").await;
    until(
        &client,
        "mail's pending count",
        &text_of("tr[data-queue=mail] td[data-status=pending]"),
        |v| v == "3",
    )
    .await;
    let reports = client
        .execute(
            &text_of("tr[data-queue=reports] td[data-status=pending]"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(reports, json!("1"));

    // Pause and resume from the page.
    click(&client, "tr[data-queue=mail] button[data-action=pause]").await;
    until_paused(storage.as_ref(), "mail", true).await;
    until(
        &client,
        "mail marked paused",
        &text_of("tr[data-queue=mail] .badge"),
        |v| v == "paused",
    )
    .await;
    click(&client, "tr[data-queue=mail] button[data-action=resume]").await;
    until_paused(storage.as_ref(), "mail", false).await;

    // A workflow's nodes change colour as its jobs complete, without a reload.
    let root = Job::new("flow_root", json!({ "step": "extract" }));
    let branches: Vec<Job> = (0..3)
        .map(|i| Job::new("flow", json!({ "branch": i })).depends_on(&root.id))
        .collect();
    let sink = Job::new("flow", json!({ "step": "load" }))
        .depends_on_jobs(branches.iter().map(|j| j.id))
        .with_condition("true");
    let (root_id, sink_id) = (root.id, sink.id);
    let mut group = JobGroup::new("etl").add_job(root);
    for branch in branches {
        group = group.add_job(branch);
    }
    let workflow = storage.enqueue_workflow(group.add_job(sink)).await.unwrap();
    open(
        &client,
        &site,
        &format!("/workflows/{workflow}"),
        "workflow",
    )
    .await;
    client
        .execute("window.__sameLoad = 'yes'; return null", vec![])
        .await
        .unwrap();
    let statuses = client.execute(NODE_STATUSES, vec![]).await.unwrap();
    assert_eq!(statuses.as_object().unwrap().len(), 5, "{statuses}");
    assert!(
        statuses
            .as_object()
            .unwrap()
            .values()
            .all(|s| s == "pending"),
        "{statuses}"
    );
    let edge_labels = client
        .execute(
            "return [...document.querySelectorAll('svg.graph .edge text')].map(t => t.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        edge_labels.as_array().unwrap().iter().any(|l| l == "true"),
        "the condition is drawn on its edges: {edge_labels}"
    );
    work_on(&site.any, &["flow_root"]).await;
    let root_key = root_id.to_string();
    until(&client, "the root node completed", NODE_STATUSES, |v| {
        v[&root_key] == "completed" && v[sink_id.to_string()] == "pending"
    })
    .await;
    work_on(&site.any, &["flow"]).await;
    until(&client, "every node completed", NODE_STATUSES, |v| {
        v.as_object()
            .is_some_and(|m| m.values().all(|s| s == "completed"))
    })
    .await;
    until(
        &client,
        "the workflow's status",
        "return document.getElementById('summary').dataset.status",
        |v| v == "completed",
    )
    .await;
    let same = client
        .execute("return window.__sameLoad || null", vec![])
        .await
        .unwrap();
    assert_eq!(same, json!("yes"), "the page was not reloaded");
    click(&client, "button[data-action=export-mermaid]").await;
    until(&client, "the Mermaid export", &text_of("#mermaid"), |v| {
        v.as_str()
            .is_some_and(|t| t.starts_with("flowchart LR") && t.matches("-->").count() == 6)
    })
    .await;
    click(&client, "button[data-action=export-svg]").await;
    until(
        &client,
        "the SVG export",
        "return Number(document.getElementById('main').dataset.exportedSvg || 0)",
        |v| v.as_u64().is_some_and(|n| n > 1000),
    )
    .await;

    // A spawn tree grows as children are spawned.
    let parent = Job::new("web_parent", json!({ "batch": 1 })).with_spawn_handler("three");
    let parent_id = parent.id;
    storage.enqueue(parent).await.unwrap();
    open(&client, &site, &format!("/spawn/{parent_id}"), "spawn-tree").await;
    let size = "return document.getElementById('tree-size').dataset.size";
    until(&client, "the tree before spawning", size, |v| v == "1").await;
    work_on(&site.any, &["web_parent"]).await;
    until(&client, "the tree after spawning", size, |v| v == "4").await;
    let level = client
        .execute(
            &text_of("#levels tr[data-depth='1'] td.num + td.num"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(level, json!("3"), "three children one level down");
    // The overview's last hour: the workflow's five jobs and the parent
    // completed since the server first counted (a fresh load of the page
    // reads the server's samples, taken at least once a second here).
    let deadline = Instant::now() + WITHIN;
    loop {
        open(&client, &site, "/", "overview").await;
        let done = client
            .execute(
                "return document.querySelector('#throughput + p').dataset.completed",
                vec![],
            )
            .await
            .unwrap();
        if done == json!("6") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "completed in the last hour: {done}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    open(&client, &site, "/spawn", "spawns").await;
    let operation = client
        .execute(
            "return [...document.querySelectorAll('#operations tbody tr td')].map(t => t.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        (operation[1].clone(), operation[2].clone()),
        (json!("web_parent"), json!("3")),
        "the spawn operation's queue and children: {operation}"
    );

    // Cancel and retry a job from its page.
    let later = Job::new("later", json!({})).with_delay(Duration::from_secs(3600));
    let later_id = later.id;
    storage.enqueue(later).await.unwrap();
    open(&client, &site, &format!("/jobs/{later_id}"), "job").await;
    click(&client, "button[data-action=cancel]").await;
    until_status(storage.as_ref(), later_id, JobStatus::Cancelled).await;
    until(
        &client,
        "the cancelled badge",
        &text_of("main .badge"),
        |v| v == "cancelled",
    )
    .await;
    click(&client, "button[data-action=retry]").await;
    until_status(storage.as_ref(), later_id, JobStatus::Pending).await;
    until(&client, "the pending badge", &text_of("main .badge"), |v| {
        v == "pending"
    })
    .await;

    // The jobs table filters by queue and status.
    open(&client, &site, "/jobs?queue=mail&status=pending", "jobs").await;
    let rows = client
        .execute(
            "return document.querySelectorAll('#jobs tbody tr').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(rows, json!(3));

    // Bad and unknown ids show a not-found page, not a blank one.
    for route in [
        "/jobs/not-a-uuid".to_string(),
        format!("/jobs/{}", uuid_like()),
        format!("/workflows/{}", uuid_like()),
        "/no/such/page".to_string(),
    ] {
        open(&client, &site, &route, "not-found").await;
        let said = client
            .execute(&text_of("main [role=alert]"), vec![])
            .await
            .unwrap();
        assert!(
            said.as_str().is_some_and(|s| !s.is_empty()),
            "{route}: {said}"
        );
    }
    client.close().await.unwrap();

    screenshots(
        &driver,
        &site,
        &[
            ("overview", "/", "overview"),
            ("jobs", "/jobs", "jobs"),
            ("job", &format!("/jobs/{sink_id}"), "job"),
            ("workflow", &format!("/workflows/{workflow}"), "workflow"),
            ("spawn-tree", &format!("/spawn/{parent_id}"), "spawn-tree"),
            ("spawns", "/spawn", "spawns"),
            ("not-found", "/jobs/not-a-uuid", "not-found"),
        ],
    )
    .await;
    site.finish().await;
}

const READ_TOKEN: &str = "read-token-0123456789abcdef";
const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";

/// Signs in on the sign-in page with `token`, then waits for the overview.
async fn sign_in(client: &Client, token: &str) {
    client
        .find(Locator::Css("#token"))
        .await
        .expect("the token field")
        .send_keys(token)
        .await
        .expect("type the token");
    click(client, "main form button[type=submit]").await;
    until(
        client,
        "the overview after signing in",
        "const m = document.getElementById('main'); return m.dataset.ready ? m.dataset.page : null",
        |v| v == "overview",
    )
    .await;
}

/// With credentials configured the page asks for a token once per tab,
/// keeps it across reloads, and a read-only token cannot act.
async fn sign_in_once_per_tab(kind: DatabaseKind, backend: &'static str) {
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
        users: vec![],
    };
    let config = WebConfig::default()
        .with_events_interval(Duration::from_millis(100))
        .with_auth(auth)
        .unwrap();
    let _shared = BROWSERS.read().await;
    let site = Site::with_config(kind, backend, "sign_in_once_per_tab", config).await;
    let storage = site.storage();
    storage.enqueue(Job::new("mail", json!({}))).await.unwrap();
    let driver = Driver::start().await;

    // Read-only: asked once, the counts show, an action is refused.
    let reader = driver.browser(false, 1280).await;
    open(&reader, &site, "/", "sign-in").await;
    sign_in(&reader, READ_TOKEN).await;
    until(
        &reader,
        "mail's pending count",
        &text_of("tr[data-queue=mail] td[data-status=pending]"),
        |v| v == "1",
    )
    .await;
    click(&reader, "tr[data-queue=mail] button[data-action=pause]").await;
    until(&reader, "the refusal", &text_of("main .message"), |v| {
        v.as_str().is_some_and(|s| s.contains("may only read"))
    })
    .await;
    assert!(
        !is_paused(storage.as_ref(), "mail").await,
        "a read-only token paused the queue"
    );
    // Kept for the tab: a reload goes straight to the overview.
    open(&reader, &site, "/", "overview").await;
    reader.close().await.unwrap();

    // Another tab (a new browser session) is asked again; an admin acts.
    let admin = driver.browser(false, 1280).await;
    open(&admin, &site, "/", "sign-in").await;
    sign_in(&admin, ADMIN_TOKEN).await;
    click(&admin, "tr[data-queue=mail] button[data-action=pause]").await;
    until_paused(storage.as_ref(), "mail", true).await;
    admin.close().await.unwrap();
    site.finish().await;
}

/// A UUID no job has.
fn uuid_like() -> String {
    "0190a5b2-0000-7000-8000-000000000000".to_string()
}

/// A workflow of 1,000 jobs: 20 stages of split -> fan-out of 40 -> merge
/// (collapsed when drawn) and 8 chains of 20, loaded and laid out in a fresh
/// page within a second.
async fn thousand_jobs_lay_out_within_a_second(kind: DatabaseKind, backend: &'static str) {
    let site = Site::start(kind, backend, "thousand_jobs_lay_out").await;
    let mut group = JobGroup::new("wide");
    let mut jobs = 0;
    for stage in 0..20 {
        let split = Job::new("split", json!({ "stage": stage }));
        let fan: Vec<Job> = (0..40)
            .map(|i| Job::new("work", json!({ "stage": stage, "i": i })).depends_on(&split.id))
            .collect();
        let merge =
            Job::new("merge", json!({ "stage": stage })).depends_on_jobs(fan.iter().map(|j| j.id));
        group = group.add_job(split);
        for job in fan {
            group = group.add_job(job);
        }
        group = group.add_job(merge);
        jobs += 42;
    }
    for chain in 0..8 {
        let mut previous: Option<JobId> = None;
        for step in 0..20 {
            let mut job = Job::new("chain", json!({ "chain": chain, "step": step }));
            if let Some(p) = previous {
                job = job.depends_on(&p);
            }
            previous = Some(job.id);
            group = group.add_job(job);
            jobs += 1;
        }
    }
    assert_eq!(jobs, 1000);
    let workflow = site.storage().enqueue_workflow(group).await.unwrap();
    let _alone = BROWSERS.write().await;
    let driver = Driver::start().await;
    let client = driver.browser(false, 1280).await;
    // A browser that has started and shown the dashboard once, as an
    // operator's has; then three fresh loads of the workflow page, each timed.
    open(&client, &site, "/", "overview").await;
    for _ in 0..3 {
        open(
            &client,
            &site,
            &format!("/workflows/{workflow}"),
            "workflow",
        )
        .await;
        let timing = until(
            &client,
            "the drawn graph",
            "const svg = document.querySelector('svg.graph'); \
             return svg ? { ready: Number(svg.dataset.readyAt), layout: Number(svg.dataset.layoutMs), \
             nodes: svg.querySelectorAll('.node').length } : null",
            |v| !v.is_null(),
        )
        .await;
        let ready = timing["ready"].as_f64().unwrap();
        println!(
            "{backend}: 1,000-job workflow: page loaded and laid out {ready:.0} ms after \
             navigation (layout and drawing {} ms, {} nodes drawn)",
            timing["layout"], timing["nodes"]
        );
        assert!(ready < 1000.0, "the 1,000-job workflow took {ready:.0} ms");
    }
    client.close().await.unwrap();
    site.finish().await;
}

/// Each case on PostgreSQL and on SQLite.
macro_rules! on_postgres_and_sqlite {
    ($($case:ident),* $(,)?) => {
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::DatabaseKind::Postgres, "postgres").await;
            }
        )* }
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(super::DatabaseKind::Sqlite, "sqlite").await;
            }
        )* }
    };
}

on_postgres_and_sqlite!(
    dashboard_follows_the_database,
    thousand_jobs_lay_out_within_a_second,
    sign_in_once_per_tab,
);
