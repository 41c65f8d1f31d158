//! DNS rebinding: without a token, a page in a browser could reach a
//! loopback server through a name that resolves to 127.0.0.1. So requests
//! whose `Host` is neither the address the client connected to (`ip:port`),
//! `localhost:port`, nor a name the operator allows (`--allow-host`, any
//! port) are refused with 403. With a token the check is off: the token
//! already keeps such pages out.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::listener::ConnInfo;
use crate::state::AppState;

/// Middleware: refuses foreign `Host` headers when no token is required.
pub async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let config = state.config();
    if config.token.is_some() {
        return next.run(request).await;
    }
    let local = request
        .extensions()
        .get::<ConnectInfo<ConnInfo>>()
        .map(|info| info.0.local);
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    let accepted = host.is_some_and(|host| {
        host_accepted(
            host,
            local.map(|l| (l.ip(), l.port())),
            &config.allowed_hosts,
        )
    });
    if accepted {
        next.run(request).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "this Host is not served: use the server's address or localhost, \
             or start it with --allow-host NAME (or a --token-file)",
        )
        .into_response()
    }
}

/// Whether `host` (a `Host` header) names this server. `local` is the
/// address the client connected to, when known.
pub fn host_accepted(
    host: &str,
    local: Option<(std::net::IpAddr, u16)>,
    allowed: &[String],
) -> bool {
    let (name, port) = split_host(host);
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(name)) {
        return true;
    }
    let Some((ip, local_port)) = local else {
        // In-process requests (tests) have no connection: loopback names.
        return name.eq_ignore_ascii_case("localhost")
            || name
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
    };
    let port_matches = match port {
        Some(port) => port == local_port,
        None => local_port == 80 || local_port == 443,
    };
    if !port_matches {
        return false;
    }
    if name.eq_ignore_ascii_case("localhost") {
        return ip.is_loopback();
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|named| named == ip || (named.to_canonical() == ip.to_canonical()))
}

/// `name` and port of a `Host` value (`[v6]:port` included).
fn split_host(host: &str) -> (&str, Option<u16>) {
    if let Some(rest) = host.strip_prefix('[') {
        if let Some((inside, after)) = rest.split_once(']') {
            let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
            return (inside, port);
        }
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, port.parse().ok()),
        _ => (host, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn local(ip: &str, port: u16) -> Option<(IpAddr, u16)> {
        Some((ip.parse().unwrap(), port))
    }

    #[test]
    fn the_listening_address_and_localhost_pass() {
        assert!(host_accepted(
            "127.0.0.1:5980",
            local("127.0.0.1", 5980),
            &[]
        ));
        assert!(host_accepted(
            "localhost:5980",
            local("127.0.0.1", 5980),
            &[]
        ));
        assert!(host_accepted("[::1]:5980", local("::1", 5980), &[]));
        assert!(host_accepted("10.0.0.5:5980", local("10.0.0.5", 5980), &[]));
    }

    #[test]
    fn other_names_and_ports_are_refused() {
        assert!(!host_accepted(
            "evil.example:5980",
            local("127.0.0.1", 5980),
            &[]
        ));
        assert!(!host_accepted(
            "localhost:80",
            local("127.0.0.1", 5980),
            &[]
        ));
        assert!(!host_accepted(
            "127.0.0.2:5980",
            local("127.0.0.1", 5980),
            &[]
        ));
        assert!(!host_accepted("evil.example", None, &[]));
    }

    #[test]
    fn allowed_names_pass_on_any_port() {
        let allowed = ["Coordinate.Example".to_owned()];
        assert!(host_accepted(
            "coordinate.example",
            local("10.0.0.5", 5980),
            &allowed
        ));
        assert!(host_accepted(
            "coordinate.example:443",
            local("10.0.0.5", 5980),
            &allowed
        ));
    }
}
