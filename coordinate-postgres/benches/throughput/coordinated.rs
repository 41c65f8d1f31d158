//! The `coordinated` server as a child of the benchmark, for the `rest`
//! rows: the binary `cargo xtask bench` built (`--coordinated <path>`), on
//! a free loopback port, over the benchmark's own PostgreSQL.
//!
//! The server gets the benchmark's connection string in
//! `COORDINATED_BACKEND`, not as `-backend`: a command line is visible to
//! every local user (`ps`), and the URL holds the password.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// How long the server may take to answer `/healthz` after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines of the server's stderr kept for an error message.
const LOG_LINES: usize = 20;

/// How to start a server: the binary and the environment naming the
/// benchmark's database.
pub struct Launcher {
    program: PathBuf,
    conn: String,
}

impl Launcher {
    /// A launcher for `program` over the database of `conn` (the
    /// benchmark's `--backend`), or why the server cannot be given that
    /// database (one line, never quoting a value: it may be a password).
    pub fn new(program: &Path, conn: &str) -> Result<Launcher, String> {
        if !program.is_file() {
            return Err(format!("--coordinated {}: no such file", program.display()));
        }
        Ok(Launcher {
            program: program.to_owned(),
            conn: conn.to_owned(),
        })
    }

    /// Starts a server with `extra` flags and waits until `/healthz`
    /// answers 200.
    pub fn start(&self, extra: &[&str]) -> Result<Coordinated> {
        let port = free_port()?;
        let address = format!("127.0.0.1:{port}");
        let mut command = Command::new(&self.program);
        command
            .args(["-http", &address])
            .args(extra)
            // The connection string (with its password) through the
            // environment, never on the command line; whatever it leaves
            // out, libpq takes from the PG* variables the server inherits.
            .env("COORDINATED_BACKEND", &self.conn)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", self.program.display()))?;
        // Drained on a thread: a full pipe would stall the server's logging
        // and with it the requests being measured.
        let log = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap();
                    if log.len() == LOG_LINES {
                        log.pop_front();
                    }
                    log.push_back(line);
                }
            });
        }
        let mut server = Coordinated {
            child,
            url: format!("http://{address}/"),
            log,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .into(),
        };
        server.wait_healthy()?;
        Ok(server)
    }
}

/// A running server, killed when dropped.
pub struct Coordinated {
    child: Child,
    /// `http://127.0.0.1:PORT/`, for `RestCoordinate`.
    pub url: String,
    log: Arc<Mutex<VecDeque<String>>>,
    agent: ureq::Agent,
}

/// What the server's `/metrics` counted since it started (or, from
/// [`Requests::since`], between two readings).
#[derive(Debug, Default, Clone)]
pub struct Requests {
    /// Requests answered, by `METHOD /route/{template}`, whatever their
    /// status; the benchmark's own `/metrics` and `/healthz` left out.
    pub by_route: BTreeMap<String, u64>,
    /// Requests refused with 503 + `Retry-After` because too many were
    /// waiting for the store (`--max-waiting`); the client sends them
    /// again by itself.
    pub refused: u64,
    /// Answers with a 4xx or 5xx status other than those refusals.
    pub errors: u64,
}

impl Requests {
    /// Requests answered, all routes.
    pub fn total(&self) -> u64 {
        self.by_route.values().sum()
    }

    /// What was counted after `before`.
    pub fn since(&self, before: &Requests) -> Requests {
        Requests {
            by_route: self
                .by_route
                .iter()
                .map(|(route, n)| {
                    let earlier = before.by_route.get(route).copied().unwrap_or(0);
                    (route.clone(), n.saturating_sub(earlier))
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
            refused: self.refused.saturating_sub(before.refused),
            errors: self.errors.saturating_sub(before.errors),
        }
    }
}

impl Coordinated {
    fn wait_healthy(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "coordinated exited ({status}) before answering /healthz:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(mut response) = self.agent.get(format!("{}healthz", self.url)).call() {
                if response.status() == 200 {
                    let _ = response.body_mut().read_to_string();
                    return Ok(());
                }
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "coordinated did not answer /healthz with 200 within {START_TIMEOUT:?}:\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's last lines on stderr.
    pub fn log_tail(&self) -> String {
        let log = self.log.lock().unwrap();
        log.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// The server's peak resident memory since it started, in MiB
    /// (`VmHWM` of its `/proc/<pid>/status`; Linux only).
    pub fn peak_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// The requests, refusals and error answers `/metrics` counted.
    pub fn requests(&self) -> Result<Requests> {
        let mut response = self
            .agent
            .get(format!("{}metrics", self.url))
            .call()
            .context("reading coordinated's /metrics")?;
        if response.status() != 200 {
            bail!("coordinated's /metrics answered {}", response.status());
        }
        let text = response.body_mut().read_to_string()?;
        Ok(parse_requests(&text))
    }
}

impl Drop for Coordinated {
    fn drop(&mut self) {
        // Nothing is in flight by now: no drain to wait for.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the counters of [`Requests`] from Prometheus text.
fn parse_requests(metrics: &str) -> Requests {
    let value = |line: &str| -> u64 {
        line.rsplit_once(' ')
            .and_then(|(_, v)| v.trim().parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    };
    // Route templates hold braces, so labels are found by name rather
    // than by position.
    let label = |line: &'_ str, name: &str| -> Option<String> {
        let (_, rest) = line.split_once(&format!("{name}=\""))?;
        Some(rest.split_once('"')?.0.to_owned())
    };
    let mut requests = Requests::default();
    let mut failed_answers = 0;
    for line in metrics.lines() {
        if line.starts_with("coordinated_store_calls_refused_total ") {
            requests.refused = value(line);
        } else if line.starts_with("coordinated_http_requests_total{") {
            let (Some(method), Some(route)) = (label(line, "method"), label(line, "route")) else {
                continue;
            };
            let status: u16 = label(line, "status")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            if status >= 400 {
                failed_answers += value(line);
            }
            if route != "/metrics" && route != "/healthz" {
                *requests
                    .by_route
                    .entry(format!("{method} {route}"))
                    .or_default() += value(line);
            }
        }
    }
    requests.errors = failed_answers.saturating_sub(requests.refused);
    requests
}

/// A free loopback port (bound, read, released; the server binds it a
/// moment later).
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
