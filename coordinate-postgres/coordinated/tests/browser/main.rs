//! The dashboard in a real browser: headless Chromium driven through
//! WebDriver (`chromedriver`, [`webdriver`]) against the real
//! `coordinated` binary on the test PostgreSQL, with a pipeline running
//! on the worker runtime in this process. Actions whose result the
//! pipeline would race with are tried on a paused spec.
//!
//! Each run saves a screenshot of every screen under the temporary
//! directory; with `COORDINATED_SCREENSHOTS=DIR` they go to `DIR` (the
//! README's are regenerated with
//! `COORDINATED_SCREENSHOTS=$PWD/coordinate-postgres/coordinated/docs/screenshots`).

#[path = "../common/mod.rs"]
mod common;
mod webdriver;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use coordinate_api::definition::WorkSpecDefinition;
use coordinate_api::runtime::{Job, JobError, JobOutcome, Runtime, RuntimeHandle};
use coordinate_api::{Coordinate, Data, Namespace, Value, WorkSpec, WorkUnitMeta, WorkUnitStatus};
use coordinate_postgres::test_support::{builder, database_url};
use coordinate_rest::wire::encode_name;

use common::{free_port, Server};
use webdriver::Browser;

/// Long enough for any page to change in a loaded CI machine.
const PATIENCE: Duration = Duration::from_secs(20);

/// The test database, a namespace of the test's own, and a server on it.
struct Setup {
    namespace: Arc<dyn Namespace>,
    server: Server,
}

impl Setup {
    fn new(tag: &str, flags: &[&str]) -> Setup {
        let store: Arc<dyn Coordinate> = Arc::new(
            builder(&database_url())
                .build()
                .expect("the test database (DATABASE_URL or PG*) must be reachable"),
        );
        let name = format!("browser-{tag}-{}", std::process::id());
        let namespace = store.namespace(&name).unwrap();
        namespace.destroy().unwrap();
        let namespace = store.namespace(&name).unwrap();
        let server = start_server(flags);
        Setup { namespace, server }
    }

    fn spec(&self, name: &str, then: Option<&str>) -> Arc<dyn WorkSpec> {
        let mut definition = WorkSpecDefinition::new(name);
        if let Some(then) = then {
            definition = definition.then(then);
        }
        self.namespace
            .set_work_spec(definition.into_data())
            .unwrap()
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn ns_path(&self, rest: &str) -> String {
        format!("/namespace/{}{rest}", encode_name(self.namespace.name()))
    }

    fn spec_path(&self, spec: &str) -> String {
        self.ns_path(&format!("/work_spec/{}", encode_name(spec)))
    }

    fn unit_path(&self, spec: &str, unit: &str) -> String {
        format!("{}/work_unit/{}", self.spec_path(spec), encode_name(unit))
    }
}

fn start_server(flags: &[&str]) -> Server {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec![
        "-backend".to_owned(),
        database_url(),
        "-http".to_owned(),
        addr,
        "-metric-period".to_owned(),
        "1s".to_owned(),
    ];
    args.extend(flags.iter().map(|f| (*f).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(port, "http", &args)
}

impl Drop for Setup {
    fn drop(&mut self) {
        // The test database is shared: leave it as it was found.
        let _ = self.namespace.destroy();
    }
}

/// Where this run's screenshots go.
fn screenshot(browser: &Browser, name: &str) {
    let dir = std::env::var_os("COORDINATED_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("coordinated-screenshots"));
    browser.screenshot(&dir.join(format!("{name}.png")));
}

/// Pauses `spec` in the store (for actions the pipeline must not race).
fn pause(spec: &dyn WorkSpec) {
    let mut meta = spec.meta(false).unwrap();
    meta.paused = true;
    spec.set_meta(meta).unwrap();
}

/// A unit's status in the store.
fn status(spec: &dyn WorkSpec, unit: &str) -> WorkUnitStatus {
    spec.work_unit(unit).unwrap().status().unwrap()
}

fn count(spec: &dyn WorkSpec, status: WorkUnitStatus) -> usize {
    spec.count_work_unit_status()
        .unwrap()
        .get(&status)
        .copied()
        .unwrap_or(0)
}

/// The pipeline: `ingest` units take a few milliseconds and chain into
/// `publish`, which finish at once.
fn pipeline(setup: &Setup, units: usize) -> RuntimeHandle {
    let ingest = setup.spec("ingest", Some("publish"));
    setup.spec("publish", None);
    let batch = (0..units)
        .map(|i| coordinate_api::NewWorkUnit {
            name: format!("doc-{i:05}"),
            data: Data::new(),
            meta: WorkUnitMeta::default(),
        })
        .collect();
    ingest.add_work_units(batch).unwrap();
    let ingest_handler = |job: &Job| -> Result<JobOutcome, JobError> {
        job.sleep(Duration::from_millis(25))?;
        let mut output = Data::new();
        let mut next = std::collections::BTreeMap::new();
        next.insert(
            Value::Text(format!("{}-out", job.work_unit_name())),
            Value::Map(Default::default()),
        );
        output.insert("output".into(), Value::Map(next));
        Ok(JobOutcome::finish_with(output))
    };
    Runtime::builder(setup.namespace.clone())
        .handler("ingest", ingest_handler)
        .handler("publish", |_: &Job| Ok(JobOutcome::finish()))
        .concurrency(4)
        .worker_name(format!("{}-pipeline", setup.namespace.name()))
        .poll_interval(Duration::from_millis(200))
        .start()
        .expect("the pipeline's runtime")
}

#[test]
fn screens_live_counts_and_pause_with_a_pipeline_running() {
    let setup = Setup::new("live", &[]);
    let quiet = setup.spec("quiet", None);
    for unit in ["q1", "q2", "q3"] {
        quiet
            .add_work_unit(unit, Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
    pause(&*quiet);
    let runtime = pipeline(&setup, 3000);
    let ingest = setup.namespace.work_spec("ingest").unwrap();
    let browser = Browser::start();

    // The overview: every namespace, the counts the store has.
    browser.goto(&setup.url("/"));
    let ns_name = setup.namespace.name().to_owned();
    browser.wait_for(PATIENCE, "the namespace on the overview", |b| {
        b.source().contains(&ns_name)
    });
    let cell = |b: &Browser, spec: &str, status: &str| -> String {
        let script = "const a = document.querySelector(`a[href='${arguments[0]}']`); \
                      if (!a) return null; \
                      const td = a.closest('tr').querySelector(`td[data-status='${arguments[1]}']`); \
                      return td ? td.textContent : null;";
        b.execute(script, serde_json::json!([setup.spec_path(spec), status]))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    browser.wait_for(PATIENCE, "the paused spec's 3 available units", |b| {
        cell(b, "quiet", "available") == "3"
    });
    screenshot(&browser, "overview");

    // Live: the pipeline's counts change without a reload.
    browser.execute("window.stillThisPage = 42;", serde_json::json!([]));
    let before = cell(&browser, "ingest", "finished");
    browser.wait_for(PATIENCE, "the finished count to move", |b| {
        let now = cell(b, "ingest", "finished");
        !now.is_empty() && now != before
    });
    assert_eq!(
        browser.execute("return window.stillThisPage;", serde_json::json!([])),
        serde_json::json!(42),
        "the counts changed in place, not by a reload"
    );

    // Pause in the browser: the spec is paused and the runtime stops
    // getting its units; resume: it goes on.
    browser.goto(&setup.url(&setup.spec_path("ingest")));
    screenshot(&browser, "spec");
    browser.find("#pause").click();
    browser.wait_for(PATIENCE, "the pause to be confirmed", |b| {
        b.try_text("#flash")
            .is_some_and(|f| f.starts_with("paused work spec ingest"))
    });
    assert!(ingest.meta(false).unwrap().paused, "paused in the store");
    // What was claimed before the pause drains; then nothing is claimed.
    std::thread::sleep(Duration::from_secs(2));
    let available = count(&*ingest, WorkUnitStatus::Available);
    assert!(available > 0, "units are left to claim");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        count(&*ingest, WorkUnitStatus::Available),
        available,
        "no unit of a paused spec is claimed"
    );
    assert_eq!(count(&*ingest, WorkUnitStatus::Pending), 0);
    browser.find("#resume").click();
    browser.wait_for(PATIENCE, "the resume to be confirmed", |b| {
        b.try_text("#flash")
            .is_some_and(|f| f.starts_with("resumed"))
    });
    let deadline = std::time::Instant::now() + PATIENCE;
    while count(&*ingest, WorkUnitStatus::Available) >= available {
        assert!(
            std::time::Instant::now() < deadline,
            "the runtime did not go on after resume"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // A unit's page and the workers' tree.
    browser.goto(&setup.url(&setup.unit_path("ingest", "doc-00000")));
    browser.wait_for(PATIENCE, "the unit's attempt", |b| {
        b.source().contains(&format!("{ns_name}-pipeline"))
    });
    assert_eq!(browser.text("#unit-status"), "finished");
    screenshot(&browser, "unit");
    browser.goto(&setup.url(&setup.ns_path("/worker")));
    let live_count = browser.text("#live-count");
    assert!(live_count.parse::<usize>().unwrap() >= 1, "{live_count}");
    assert!(browser.source().contains(&format!("{ns_name}-pipeline")));
    screenshot(&browser, "workers");
    assert!(browser.open_dialog().is_none());

    runtime.shutdown();
    runtime.wait();
}

#[test]
fn actions_in_the_browser_and_hostile_names() {
    let setup = Setup::new("act", &[]);
    let quiet = setup.spec("quiet", None);
    let worker = setup.namespace.worker("w").unwrap();
    for unit in ["f1", "f2", "f3"] {
        let unit = quiet
            .add_work_unit(unit, Data::new(), WorkUnitMeta::default())
            .unwrap();
        let mut traceback = Data::new();
        traceback.insert("traceback".into(), Value::Text("Traceback:\n  boom".into()));
        worker
            .make_attempt(unit, Duration::from_secs(60))
            .unwrap()
            .fail(Some(traceback))
            .unwrap();
    }
    for unit in ["a1", "a2"] {
        quiet
            .add_work_unit(unit, Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
    pause(&*quiet);
    let img = "<img src=x onerror=alert(1)>";
    let drop = "\"; DROP TABLE work_unit; --";
    let hostile = setup.spec(img, None);
    hostile
        .add_work_unit(drop, Data::new(), WorkUnitMeta::default())
        .unwrap();
    hostile
        .add_work_unit(img, Data::new(), WorkUnitMeta::default())
        .unwrap();
    let browser = Browser::start();

    // Retry one failed unit from its page.
    browser.goto(&setup.url(&setup.unit_path("quiet", "f1")));
    assert_eq!(browser.text("#unit-status"), "failed");
    browser.find("#retry").click();
    browser.wait_for(PATIENCE, "the retry to be confirmed", |b| {
        b.try_text("#flash")
            .is_some_and(|f| f == "retried unit f1 of work spec quiet")
    });
    assert_eq!(status(&*quiet, "f1"), WorkUnitStatus::Available);

    // Delete by status: it asks, states the count, deletes exactly those.
    browser.goto(&setup.url(&setup.spec_path("quiet")));
    browser
        .find("#delete-status option[value='failed']")
        .click();
    browser.find("#delete-by-status").click();
    browser.wait_for(PATIENCE, "the confirmation", |b| {
        b.try_find("#question").is_some()
    });
    let question = browser.text("#question");
    assert!(
        question.starts_with("Delete 2 unit(s) with status failed of work spec quiet"),
        "{question}"
    );
    assert_eq!(browser.text("#confirm-delete"), "Delete 2 unit(s)");
    screenshot(&browser, "confirm");
    assert_eq!(
        quiet.work_units(&Default::default()).unwrap().len(),
        5,
        "nothing yet"
    );
    browser.find("#confirm-delete").click();
    browser.wait_for(PATIENCE, "the deletion to be confirmed", |b| {
        b.try_text("#flash")
            .is_some_and(|f| f.starts_with("deleted 2 unit(s)"))
    });
    let left: std::collections::BTreeSet<String> = quiet
        .work_units(&Default::default())
        .unwrap()
        .iter()
        .map(|u| u.name().to_owned())
        .collect();
    assert_eq!(left, ["a1", "a2", "f1"].map(String::from).into());

    // Names are text: no element, no script, no dialog.
    for path in [
        setup.spec_path(img),
        setup.unit_path(img, img),
        setup.unit_path(img, drop),
        "/".to_owned(),
    ] {
        browser.goto(&setup.url(&path));
        assert!(browser.open_dialog().is_none(), "{path}: a dialog opened");
        let images = browser.execute(
            "return document.querySelectorAll('img').length;",
            serde_json::json!([]),
        );
        assert_eq!(images, serde_json::json!(0), "{path}");
    }
    browser.goto(&setup.url(&setup.unit_path(img, drop)));
    assert_eq!(browser.text("h1"), format!("Work unit {drop}"));
    browser.goto(&setup.url(&setup.spec_path(img)));
    assert_eq!(browser.text("h1"), format!("Work spec {img}"));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        browser.open_dialog().is_none(),
        "no dialog after the live refresh either"
    );
}

#[test]
fn refusals_in_the_browser() {
    let token_file = common::scratch("browser-token").join("token");
    std::fs::write(&token_file, "browser-s3cret\n").unwrap();
    let setup = Setup::new("refuse", &["--token-file", token_file.to_str().unwrap()]);
    let quiet = setup.spec("quiet", None);
    let browser = Browser::start();
    let spec_url = setup.url(&setup.spec_path("quiet"));

    // Signing in: a wrong token is refused, the right one comes back here.
    browser.goto(&spec_url);
    browser.wait_for(PATIENCE, "the sign-in form", |b| {
        b.try_find("#token").is_some()
    });
    browser.find("#token").type_text("wrong");
    browser.find("form.sign-in button").click();
    browser.wait_for(PATIENCE, "the refusal", |b| {
        b.try_find("#problem").is_some()
    });
    browser.find("#token").type_text("browser-s3cret");
    browser.find("form.sign-in button").click();
    browser.wait_for(PATIENCE, "the spec page", |b| {
        b.try_find("#pause").is_some()
    });
    assert_eq!(browser.url(), spec_url);

    // A form whose CSRF token was tampered with is refused.
    browser.execute(
        "document.querySelector('#pause').form.querySelector('input[name=csrf]').value = 'forged';",
        serde_json::json!([]),
    );
    browser.find("#pause").click();
    browser.wait_for(PATIENCE, "the CSRF refusal", |b| {
        b.try_find("#message").is_some()
    });
    assert!(browser
        .find("#message")
        .text()
        .contains("CSRF token is missing or stale"));
    assert!(!quiet.meta(false).unwrap().paused, "nothing changed");

    // Without the cookie every action is refused.
    browser.goto(&spec_url);
    browser.find("#pause");
    browser.delete_cookies();
    browser.find("#pause").click();
    browser.wait_for(PATIENCE, "the session refusal", |b| {
        b.try_find("#message").is_some()
    });
    assert!(browser.text("#message").contains("sign in first"));
    assert!(!quiet.meta(false).unwrap().paused, "nothing changed");

    // A --read-only server shows the page, offers nothing, refuses a form.
    let read_only = start_server(&["--read-only"]);
    browser.goto(&read_only.url(&setup.spec_path("quiet")));
    browser.wait_for(PATIENCE, "the read-only page", |b| {
        b.source().contains("read-only")
    });
    assert!(browser.try_find("#pause").is_none(), "no action offered");
    let csrf = browser.execute(
        "return document.querySelector('input[name=csrf]').value;",
        serde_json::json!([]),
    );
    browser.execute(
        "const f = document.createElement('form'); f.method = 'post'; f.action = '/_dashboard/act'; \
         for (const [k, v] of Object.entries(arguments[0])) { const i = document.createElement('input'); \
         i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); } \
         document.body.appendChild(f); f.submit();",
        serde_json::json!([{"csrf": csrf, "action": "pause", "namespace": setup.namespace.name(), "spec": "quiet"}]),
    );
    browser.wait_for(PATIENCE, "the read-only refusal", |b| {
        b.try_find("#message").is_some()
    });
    assert!(browser.text("#message").contains("--read-only"));
    assert!(!quiet.meta(false).unwrap().paused, "nothing changed");
}
