//! The command line: go-coordinate's `coordinated` flags with go's names and
//! meanings, in every spelling Go's `flag` package accepts, plus our own.
//!
//! Go accepts `-name value`, `--name value`, `-name=value` and
//! `--name=value` for every flag; clap only knows `--name`. [`parse_args`]
//! therefore rewrites a single-dash long flag into its double-dash form
//! before clap sees it (short flags, of which there is only `-h`, stay).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, CommandFactory, Parser};

use crate::go_duration::parse_go_duration;

/// Where go listens (all interfaces) is not where we listen by default:
/// loopback, the same port.
pub const DEFAULT_HTTP: &str = "127.0.0.1:5980";

/// What go's `-cborrpc` would have served, which this server does not.
pub const CBORRPC_REFUSAL: &str = "-cborrpc: the Python CBOR-RPC protocol (go-coordinate's \
     `-cborrpc` listener for Python workers) is not served yet by this coordinated; \
     drop the flag and point clients at the REST API (`-http`)";

/// The default body limit: the library's largest data once it is base64
/// (4/3) inside JSON, with room for the rest of the body.
pub const DEFAULT_MAX_BODY_BYTES: usize =
    coordinate_api::data::DEFAULT_MAX_DATA_BYTES / 3 * 4 + (1 << 20);

/// The environment variable `-backend` falls back to.
pub const BACKEND_VAR: &str = "COORDINATED_BACKEND";

/// `coordinated`: go-coordinate's daemon, serving its REST API over a
/// coordinate backend.
#[derive(Debug, Clone, Parser)]
#[command(name = "coordinated", version)]
pub struct Cli {
    /// The store: `memory`, a PostgreSQL connection string
    /// (`postgres://user:pass@host/db`, `postgres:host=… user=…`,
    /// `postgres:` for libpq's PG* variables), or `http(s)://[user:token@]host:port`
    /// to serve another coordinated's store (proxy). Also read from
    /// `COORDINATED_BACKEND` (never printed by `--help`), so that a
    /// password need not stand on a command line that every local user can
    /// read; the flag wins.
    #[arg(
        long,
        default_value = "memory",
        value_name = "BACKEND",
        env = BACKEND_VAR,
        hide_env_values = true
    )]
    pub backend: String,
    /// `[ip]:port` for the REST API. Unlike go (`:5980`, every interface),
    /// the default is loopback; `:5980` still means every interface.
    #[arg(long, default_value = DEFAULT_HTTP, value_name = "ADDR")]
    pub http: String,
    /// go's global configuration YAML, which only its CBOR-RPC interface
    /// reads: checked to be readable, otherwise unused.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log every request (on stdout, in `-log-format`).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false",
          action = ArgAction::Set, value_parser = parse_go_bool)]
    pub log_requests: bool,
    /// Request log format: `ncsa` (Apache's combined format) or
    /// `stackdriver` (one JSON object a line).
    #[arg(long, default_value = "ncsa", value_name = "FORMAT", value_parser = ["ncsa", "stackdriver"])]
    pub log_format: String,
    /// Log every metrics sample (and its failures).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false",
          action = ArgAction::Set, value_parser = parse_go_bool)]
    pub log_metrics: bool,
    /// Time between two work unit summaries for `/metrics`, as a Go
    /// duration (`2m`, `30s`, `1h30m`).
    #[arg(long, default_value = "2m", value_name = "DURATION", value_parser = parse_go_duration)]
    pub metric_period: Duration,
    /// go's CBOR-RPC listener for Python workers: refused, not served yet.
    #[arg(long, value_name = "ADDR")]
    pub cborrpc: Option<String>,

    /// A file holding the API token (surrounding whitespace ignored). With
    /// it, every route but /healthz and /readyz needs `Authorization:
    /// Bearer TOKEN`, or HTTP Basic with the token as password.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// A host name clients may use in `Host:` (repeatable). Without a
    /// token only the listening address and `localhost` are accepted.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// PEM certificate chain: serve HTTPS (with `--tls-key`).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Let clients drive a mock clock per test session (headers
    /// `X-Coordinate-Test-*`). For test suites only: never in production.
    #[arg(long)]
    pub test_clock: bool,
    /// Serve every route under this path (behind a reverse proxy).
    #[arg(long, value_name = "/PREFIX", value_parser = parse_prefix, default_value = "")]
    pub path_prefix: String,
    /// The largest request body accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_BYTES, value_name = "BYTES")]
    pub max_body_bytes: usize,
    /// The longest a request may take (a Go duration); `wait_for_work`
    /// waits at most half of it.
    #[arg(long, default_value = "60s", value_name = "DURATION", value_parser = parse_go_duration)]
    pub request_timeout: Duration,
    /// How long a kept-alive connection may stay silent (a Go duration);
    /// never shorter than the request timeout.
    #[arg(long, default_value = "75s", value_name = "DURATION", value_parser = parse_go_duration)]
    pub idle_timeout: Duration,
    /// Requests that may wait for a store call; beyond it: 503 with
    /// `Retry-After: 1`.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_waiting: usize,
    /// Serve for looking only: the dashboard shows the store and refuses
    /// every action, and the API refuses every request that would change
    /// the store (403).
    #[arg(long)]
    pub read_only: bool,
    /// On SIGTERM or SIGINT, how long requests in flight may take to
    /// finish (a Go duration).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_go_duration)]
    pub grace: Duration,
}

impl Cli {
    /// The address to listen on, in go's `[ip]:port` form (an empty host
    /// means every interface).
    pub fn listen_addr(&self) -> Result<String, String> {
        listen_addr(&self.http)
    }
}

/// Parses the process's arguments in go's spellings as well as clap's.
pub fn parse_args<I>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    Cli::try_parse_from(normalise_go_flags(args))
}

/// Rewrites `-name` and `-name=value` into `--name…` when `name` is one of
/// our long flags, up to a `--` or the first argument that is not a flag's
/// (Go stops parsing there too).
pub fn normalise_go_flags<I>(args: I) -> Vec<OsString>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let command = Cli::command();
    let long_names: Vec<String> = command
        .get_arguments()
        .filter_map(|arg| arg.get_long().map(str::to_owned))
        .chain(["help".to_owned(), "version".to_owned()])
        .collect();
    let mut out = Vec::new();
    let mut flags_over = false;
    for (index, arg) in args.into_iter().map(Into::into).enumerate() {
        if index == 0 || flags_over {
            out.push(arg);
            continue;
        }
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            flags_over = true;
            out.push(arg);
            continue;
        }
        let single = text.strip_prefix('-').filter(|rest| !rest.starts_with('-'));
        match single {
            Some(rest)
                if long_names
                    .iter()
                    .any(|n| n == rest.split('=').next().unwrap_or("")) =>
            {
                out.push(OsString::from(format!("-{text}")));
            }
            _ => out.push(arg),
        }
    }
    out
}

/// Go's `strconv.ParseBool`: what `-flag=VALUE` accepts for a bool flag.
pub fn parse_go_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(format!("invalid boolean value {other:?}")),
    }
}

fn parse_prefix(text: &str) -> Result<String, String> {
    let trimmed = text.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if !trimmed.starts_with('/') {
        return Err("a path prefix starts with '/'".to_owned());
    }
    if trimmed.contains(['{', '}', '*', '?', '#']) {
        return Err("a path prefix is a plain path (no '{', '}', '*', '?', '#')".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// go's `[ip]:port`: an empty host is every interface.
fn listen_addr(http: &str) -> Result<String, String> {
    let (host, port) = http
        .rsplit_once(':')
        .ok_or_else(|| format!("-http {http:?}: expected [ip]:port"))?;
    port.parse::<u16>()
        .map_err(|_| format!("-http {http:?}: {port:?} is not a port number"))?;
    if host.is_empty() {
        return Ok(format!("0.0.0.0:{port}"));
    }
    Ok(http.to_owned())
}

/// Whether `addr` is a loopback address, for the start-up warnings.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        let mut all = vec!["coordinated"];
        all.extend_from_slice(args);
        parse_args(all).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn every_go_spelling_is_accepted() {
        for args in [
            &["-backend", "postgres:"][..],
            &["--backend", "postgres:"],
            &["-backend=postgres:"],
            &["--backend=postgres:"],
        ] {
            assert_eq!(parse(args).backend, "postgres:", "{args:?}");
        }
    }

    #[test]
    fn defaults_follow_go_but_listen_on_loopback() {
        let cli = parse(&[]);
        assert_eq!(cli.backend, "memory");
        assert_eq!(cli.http, "127.0.0.1:5980");
        assert_eq!(cli.metric_period, Duration::from_secs(120));
        assert_eq!(cli.log_format, "ncsa");
        assert!(!cli.log_requests && !cli.test_clock);
        assert!(cli.max_body_bytes > coordinate_api::data::DEFAULT_MAX_DATA_BYTES / 3 * 4);
    }

    #[test]
    fn bool_flags_take_go_values_only_after_an_equals_sign() {
        assert!(parse(&["-log-requests"]).log_requests);
        assert!(!parse(&["-log-requests=false"]).log_requests);
        assert!(parse(&["-log-requests=1", "-log-metrics=T"]).log_metrics);
        let cli = parse(&["-log-requests", "-http", ":1"]);
        assert!(cli.log_requests);
        assert_eq!(cli.listen_addr().unwrap(), "0.0.0.0:1");
    }

    #[test]
    fn our_flags_accept_a_single_dash_too() {
        let cli = parse(&["-token-file", "t", "--allow-host", "a", "-allow-host=b"]);
        assert_eq!(cli.allow_host, ["a", "b"]);
        assert_eq!(cli.token_file, Some(PathBuf::from("t")));
        assert_eq!(parse(&["-path-prefix", "/c/"]).path_prefix, "/c");
    }

    #[test]
    fn words_after_a_double_dash_are_left_alone() {
        let normalised = normalise_go_flags(["x", "-http", "1:2", "--", "-backend"]);
        assert_eq!(normalised, ["x", "--http", "1:2", "--", "-backend"]);
    }

    #[test]
    fn a_bad_listen_address_is_refused() {
        assert!(listen_addr("5980").is_err());
        assert!(listen_addr("host:port").is_err());
        assert_eq!(listen_addr("10.1.2.3:80").unwrap(), "10.1.2.3:80");
    }
}
