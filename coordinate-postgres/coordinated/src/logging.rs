//! Logs: the server's own lines through `tracing` on stderr, and go's
//! request log (`-log-requests`) on stdout in `-log-format`:
//!
//! - `ncsa`: Apache's combined log format, one line a request;
//! - `stackdriver`: one JSON object a line, with Google Cloud Logging's
//!   `httpRequest` fields.
//!
//! Neither shows a header: the token and Basic credentials never reach a
//! log, and the path is the only part of the URL written (go's client
//! never puts secrets there).

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;

/// go's request log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestLog {
    /// Apache's combined log format.
    Ncsa,
    /// Google Cloud Logging's JSON lines.
    Stackdriver,
}

impl RequestLog {
    /// The format `-log-format` names.
    pub fn from_flag(name: &str) -> Option<Self> {
        match name {
            "ncsa" => Some(RequestLog::Ncsa),
            "stackdriver" => Some(RequestLog::Stackdriver),
            _ => None,
        }
    }

    /// One request's line, without its newline.
    pub fn line(self, entry: &RequestEntry<'_>) -> String {
        match self {
            RequestLog::Ncsa => ncsa(entry),
            RequestLog::Stackdriver => stackdriver(entry),
        }
    }

    /// Writes one request's line on stdout.
    pub fn write(self, entry: &RequestEntry<'_>) {
        let mut line = self.line(entry);
        line.push('\n');
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout.write_all(line.as_bytes()) {
            tracing::debug!(error = %e, "writing the request log failed");
        }
    }
}

/// What a request log line says about one request.
#[derive(Debug, Clone)]
pub struct RequestEntry<'a> {
    /// The client, if known.
    pub peer: Option<SocketAddr>,
    /// The address it connected to, if known.
    pub local: Option<SocketAddr>,
    /// When the request came in.
    pub received: DateTime<Utc>,
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path and query.
    pub uri: &'a str,
    /// `HTTP/1.1`, …
    pub protocol: &'a str,
    /// The answer's status.
    pub status: u16,
    /// The request body's declared size.
    pub request_bytes: Option<u64>,
    /// The answer's body size, if known.
    pub response_bytes: Option<u64>,
    /// `Referer`, if sent.
    pub referer: Option<&'a str>,
    /// `User-Agent`, if sent.
    pub user_agent: Option<&'a str>,
    /// Time to answer.
    pub latency: Duration,
}

fn ncsa(e: &RequestEntry<'_>) -> String {
    let host = e
        .peer
        .map_or_else(|| "-".to_owned(), |p| p.ip().to_string());
    let size = e
        .response_bytes
        .map_or_else(|| "-".to_owned(), |n| n.to_string());
    let quoted = |s: Option<&str>| s.unwrap_or("").replace('\\', "\\\\").replace('"', "\\\"");
    format!(
        "{host} - - [{}] \"{} {} {}\" {} {size} \"{}\" \"{}\"",
        e.received.format("%d/%b/%Y:%H:%M:%S %z"),
        e.method,
        e.uri.replace('"', "%22"),
        e.protocol,
        e.status,
        quoted(e.referer),
        quoted(e.user_agent),
    )
}

fn stackdriver(e: &RequestEntry<'_>) -> String {
    json!({
        "httpRequest": {
            "requestMethod": e.method,
            "requestUrl": e.uri,
            "requestSize": e.request_bytes.map(|n| n.to_string()),
            "status": e.status,
            "responseSize": e.response_bytes.map(|n| n.to_string()),
            "userAgent": e.user_agent,
            "remoteIp": e.peer.map(|p| p.ip().to_string()),
            "serverIp": e.local.map(|l| l.ip().to_string()),
            "referer": e.referer,
            "latency": format!("{:.9}s", e.latency.as_secs_f64()),
            "protocol": e.protocol,
        },
        "timestamp": {
            "seconds": e.received.timestamp(),
            "nanos": e.received.timestamp_subsec_nanos(),
        },
    })
    .to_string()
}

/// The `tracing` subscriber: stderr, `RUST_LOG` or `info`.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry() -> RequestEntry<'static> {
        RequestEntry {
            peer: Some("10.1.2.3:5555".parse().unwrap()),
            local: Some("127.0.0.1:5980".parse().unwrap()),
            received: Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap(),
            method: "GET",
            uri: "/namespace/-/work_spec",
            protocol: "HTTP/1.1",
            status: 200,
            request_bytes: None,
            response_bytes: Some(42),
            referer: None,
            user_agent: Some("Go-http-client/1.1"),
            latency: Duration::from_millis(3),
        }
    }

    #[test]
    fn ncsa_is_the_combined_format() {
        assert_eq!(
            RequestLog::Ncsa.line(&entry()),
            "10.1.2.3 - - [04/Mar/2026:05:06:07 +0000] \"GET /namespace/-/work_spec HTTP/1.1\" \
             200 42 \"\" \"Go-http-client/1.1\""
        );
    }

    #[test]
    fn stackdriver_is_one_json_object() {
        let line = RequestLog::Stackdriver.line(&entry());
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["httpRequest"]["status"], 200);
        assert_eq!(value["httpRequest"]["remoteIp"], "10.1.2.3");
        assert_eq!(value["httpRequest"]["latency"], "0.003000000s");
        assert_eq!(value["timestamp"]["seconds"], 1772600767);
    }
}
