//! A small WebDriver client (W3C protocol over HTTP, through ureq) for
//! the browser tests: `chromedriver` driving headless Chromium. Only the
//! commands the tests use; every failure panics with what was asked and
//! what the driver said.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// The key under which WebDriver returns an element's id.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `chromedriver` and one headless Chromium session; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    agent: ureq::Agent,
}

/// An element of the current page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl Browser {
    /// Starts `chromedriver` (Debian's `chromium-driver`) and a session of
    /// headless Chromium (`--no-sandbox`: CI runs as root).
    pub fn start() -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver must be installed for the browser tests \
                 (Debian: apt-get install chromium chromium-driver; .ci/run does)",
            );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            agent,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = browser
                .agent
                .get(&format!("{}/status", browser.base))
                .call()
                .ok()
                .and_then(|mut r| r.body_mut().read_to_string().ok())
                .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                .is_some_and(|s| s["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let mut options = json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"]
        });
        if let Some(binary) = binary {
            options["binary"] = json!(binary);
        }
        let session = browser.command(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": options,
                "unhandledPromptBehavior": "ignore",
            }}}),
        );
        let id = session["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    /// Sends one command; returns the answer's `value`.
    fn command(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_command(method, path, body)
            .unwrap_or_else(|error| panic!("WebDriver {method} {path}: {error}"))
    }

    /// Sends one command; `Err` with the driver's error text.
    fn try_command(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let answer = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string()),
        };
        let mut answer = answer.map_err(|e| e.to_string())?;
        let status = answer.status();
        let text = answer
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        let json: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        if status.is_success() {
            Ok(json.get("value").cloned().unwrap_or(json))
        } else {
            Err(format!(
                "{}: {}",
                json["value"]["error"], json["value"]["message"]
            ))
        }
    }

    /// Opens `url`.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", json!({"url": url}));
    }

    /// The current page's URL.
    pub fn url(&self) -> String {
        self.command("GET", "/url", Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The current page's HTML as the browser has it now.
    pub fn source(&self) -> String {
        self.command("GET", "/source", Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching a CSS selector; panics if none.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.try_find(css)
            .unwrap_or_else(|| panic!("no element {css} on {}:\n{}", self.url(), self.source()))
    }

    /// The rendered text of the first element matching `css`, if one is
    /// there to read. The dashboard's live updates replace elements every
    /// 2 s, so one found by a command may be stale by the next: that
    /// reads as none, and the caller looks again.
    pub fn try_text(&self, css: &str) -> Option<String> {
        self.try_find(css)?.try_text()
    }

    /// The rendered text of the first element matching `css`, looked for
    /// again while a live update replaces it; panics if it stays missing.
    pub fn text(&self, css: &str) -> String {
        for _ in 0..20 {
            if let Some(text) = self.try_text(css) {
                return text;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "no element {css} to read on {}:\n{}",
            self.url(),
            self.source()
        )
    }

    /// The first element matching a CSS selector, if any.
    pub fn try_find(&self, css: &str) -> Option<Element<'_>> {
        let found = self
            .try_command(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .ok()?;
        Some(Element {
            browser: self,
            id: found[ELEMENT].as_str()?.to_owned(),
        })
    }

    /// Runs `script` in the page with `args`; returns its result.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
    }

    /// The text of an open alert, confirm or prompt dialog, if one is open.
    pub fn open_dialog(&self) -> Option<String> {
        self.try_command("GET", "/alert/text", Value::Null)
            .ok()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
    }

    /// Drops every cookie of the current site.
    pub fn delete_cookies(&self) {
        self.command("DELETE", "/cookie", Value::Null);
    }

    /// Saves a PNG screenshot of the viewport to `path`.
    pub fn screenshot(&self, path: &Path) {
        let encoded = self.command("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a base64 screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot folder");
        }
        std::fs::write(path, png).expect("writing the screenshot");
    }

    /// Waits up to `limit` for `check` to hold, polling every 100 ms;
    /// panics with `what` and the page if it never does.
    pub fn wait_for(&self, limit: Duration, what: &str, mut check: impl FnMut(&Browser) -> bool) {
        let deadline = Instant::now() + limit;
        while !check(self) {
            assert!(
                Instant::now() < deadline,
                "waited {limit:?} for {what} on {}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Element<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// Clicks it.
    pub fn click(&self) {
        self.browser
            .command("POST", &self.path("/click"), json!({}));
    }

    /// Its rendered text.
    pub fn text(&self) -> String {
        self.browser
            .command("GET", &self.path("/text"), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Its rendered text; `None` once a live update has replaced it.
    pub fn try_text(&self) -> Option<String> {
        let text = self
            .browser
            .try_command("GET", &self.path("/text"), Value::Null)
            .ok()?;
        Some(text.as_str().unwrap_or_default().to_owned())
    }

    /// Replaces its value with `text` (an input).
    pub fn type_text(&self, text: &str) {
        self.browser
            .command("POST", &self.path("/clear"), json!({}));
        self.browser
            .command("POST", &self.path("/value"), json!({"text": text}));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.try_command("DELETE", "", Value::Null);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
