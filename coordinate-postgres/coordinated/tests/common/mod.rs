//! Helpers for the process tests: the real binary on a free loopback port,
//! and HTTP through ureq.

#![allow(dead_code)]

use std::io::Read as _;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound, read, released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A scratch directory for this test process.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("coordinated-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The binary, run to completion with `args` (for refusals).
pub fn run_to_end(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_coordinated"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running coordinated")
}

/// A running server, stopped (SIGKILL) when dropped.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` (or https).
    pub base: String,
    /// The port.
    pub port: u16,
}

impl Server {
    /// Starts the binary with `args` (which must include `-http` with
    /// `port`) and waits for it to listen.
    pub fn start(port: u16, scheme: &str, args: &[&str]) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_coordinated"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting coordinated");
        let server = Server {
            child: Some(child),
            base: format!("{scheme}://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "coordinated did not start listening"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        server
    }

    /// Starts a plain memory server with extra flags.
    pub fn memory(extra: &[&str]) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut args = vec!["-backend", "memory", "-http", addr.as_str()];
        args.extend_from_slice(extra);
        Server::start(port, "http", &args)
    }

    /// A URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let pid = self.child.as_ref().expect("running").id();
        let status = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit, at most `limit`.
    pub fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                let mut stderr = String::new();
                if let Some(mut pipe) = child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return (status, stderr);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("coordinated did not exit within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A ureq agent that returns every status as a response.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Status and body text of an answer.
pub fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, String) {
    let mut response = result.expect("an HTTP answer");
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// GET with optional headers.
pub fn get(agent: &ureq::Agent, url: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = agent.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request.call())
}

/// POST a JSON text with optional headers.
pub fn post(agent: &ureq::Agent, url: &str, body: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = agent.post(url).header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    answer(request.send(body))
}

/// Parses a JSON body.
pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}
