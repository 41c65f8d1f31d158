//! The one HTTP connection state every handle of a coordinate shares:
//! the keep-alive agent, the credentials, the test clock headers, and the
//! request loop that honours 503 + `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use coordinate_api::{BackendErrorKind, Clock, Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use ureq::http::{Method, Request};

use super::url::ServerUrl;
use crate::wire::media::V1_JSON;
use crate::wire::time::format_time;
use crate::wire::{error_from_response, ErrorResponse};
use crate::wire::{TEST_SEED_HEADER, TEST_SESSION_HEADER, TEST_TIME_HEADER};

/// How many times one call is sent while the server answers 503 with
/// `Retry-After`.
pub(crate) const MAX_TRIES: u32 = 8;

/// Longest wait between two tries, whatever `Retry-After` says.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// Largest response body read (data may be 16 MiB, more in base64).
const MAX_RESPONSE_BYTES: u64 = 256 << 20;

/// The test clock a coordinate's requests carry.
#[derive(Clone)]
pub(crate) struct TestClock {
    pub clock: Arc<dyn Clock>,
    pub seed: u64,
    pub session: String,
}

/// What every handle of one coordinate shares.
pub(crate) struct Shared {
    pub agent: ureq::Agent,
    pub server: ServerUrl,
    /// The `Authorization` header value, if any (never printed).
    pub authorization: Option<String>,
    pub test_clock: Option<TestClock>,
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("server", &self.server)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "test_session",
                &self.test_clock.as_ref().map(|t| &t.session),
            )
            .finish()
    }
}

/// The headers every request carries besides its body's.
pub(crate) fn common_headers(
    authorization: Option<&str>,
    test_clock: Option<&TestClock>,
) -> Vec<(&'static str, String)> {
    let mut headers = vec![("Accept", V1_JSON.to_owned())];
    if let Some(value) = authorization {
        headers.push(("Authorization", value.to_owned()));
    }
    if let Some(test) = test_clock {
        headers.push((TEST_SESSION_HEADER, test.session.clone()));
        headers.push((TEST_TIME_HEADER, format_time(test.clock.now())));
        headers.push((TEST_SEED_HEADER, test.seed.to_string()));
    }
    headers
}

/// The wait a `Retry-After` header asks for: whole seconds (an HTTP date
/// is taken as one second), capped.
pub(crate) fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => Duration::from_secs(1),
    };
    Some(wait.min(MAX_RETRY_WAIT))
}

fn unavailable(what: &str, cause: impl std::fmt::Display) -> Error {
    Error::backend(BackendErrorKind::Unavailable, format!("{what}: {cause}"))
}

impl Shared {
    /// Sends one call (retrying on 503 + `Retry-After`) and gives the body
    /// of a success, or the error the server answered with.
    pub fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
        extra_time: Duration,
    ) -> Result<Vec<u8>> {
        let url = self.server.resolve(url);
        let mut tries = 0;
        loop {
            tries += 1;
            let mut builder = Request::builder().method(method.clone()).uri(&url);
            for (name, value) in
                common_headers(self.authorization.as_deref(), self.test_clock.as_ref())
            {
                builder = builder.header(name, value);
            }
            let sent = match &body {
                Some(bytes) => {
                    let request = builder
                        .header("Content-Type", V1_JSON)
                        .body(bytes.clone())
                        .map_err(|e| Error::invalid("URL", e))?;
                    let request = self.with_timeout(request, extra_time);
                    self.agent.run(request)
                }
                None => {
                    let request = builder.body(()).map_err(|e| Error::invalid("URL", e))?;
                    let request = self.with_timeout(request, extra_time);
                    self.agent.run(request)
                }
            };
            // ureq errors name no credentials: they are only in headers.
            let mut response =
                sent.map_err(|e| unavailable("the server could not be reached", e))?;
            let status = response.status().as_u16();
            let retry_after = parse_retry_after(
                response
                    .headers()
                    .get("Retry-After")
                    .and_then(|v| v.to_str().ok()),
            );
            let bytes = response
                .body_mut()
                .with_config()
                .limit(MAX_RESPONSE_BYTES)
                .read_to_vec()
                .map_err(|e| unavailable("the answer could not be read", e))?;
            if (200..300).contains(&status) {
                return Ok(bytes);
            }
            if status == 503 && tries < MAX_TRIES {
                if let Some(wait) = retry_after {
                    std::thread::sleep(wait);
                    continue;
                }
            }
            return Err(self.failure(status, &bytes));
        }
    }

    fn with_timeout<B: ureq::AsSendBody>(
        &self,
        request: Request<B>,
        extra: Duration,
    ) -> Request<B> {
        match self.timeout {
            Some(timeout) => self
                .agent
                .configure_request(request)
                .timeout_global(Some(timeout + extra))
                .build(),
            None => request,
        }
    }

    /// The error of a failed answer.
    fn failure(&self, status: u16, bytes: &[u8]) -> Error {
        match serde_json::from_slice::<ErrorResponse>(bytes) {
            Ok(body) => {
                let error = error_from_response(status, &body);
                if status == 503 && error.backend_kind().is_none() {
                    unavailable("the server is unavailable", body.message)
                } else {
                    error
                }
            }
            Err(_) if status == 503 => unavailable("the server is unavailable", status),
            Err(_) => Error::backend(
                BackendErrorKind::Other,
                format!(
                    "the server answered {status} with {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ),
            ),
        }
    }

    /// GETs a JSON answer.
    pub fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T> {
        decode(&self.send(Method::GET, url, None, Duration::ZERO)?)
    }

    /// Sends `body` with `method` and reads a JSON answer.
    pub fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: &B,
    ) -> Result<T> {
        decode(&self.send(method, url, Some(encode(body)?), Duration::ZERO)?)
    }

    /// Sends `body` with `method`, expecting no answer body.
    pub fn command<B: Serialize>(&self, method: Method, url: &str, body: &B) -> Result<()> {
        self.send(method, url, Some(encode(body)?), Duration::ZERO)
            .map(drop)
    }

    /// DELETEs, expecting no answer body.
    pub fn delete(&self, url: &str) -> Result<()> {
        self.send(Method::DELETE, url, None, Duration::ZERO)
            .map(drop)
    }
}

fn encode<B: Serialize>(body: &B) -> Result<Vec<u8>> {
    serde_json::to_vec(body).map_err(|e| Error::invalid("request", e))
}

pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        Error::backend(
            BackendErrorKind::Other,
            format!("the server's answer is not what this client reads: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use coordinate_api::MockClock;

    #[test]
    fn retry_after_is_read_and_capped() {
        assert_eq!(parse_retry_after(Some("1")), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(Some(" 3 ")), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(Some("86400")), Some(MAX_RETRY_WAIT));
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            Some(Duration::from_secs(1))
        );
        assert_eq!(parse_retry_after(Some("")), None);
        assert_eq!(parse_retry_after(None), None);
    }

    #[test]
    fn headers_carry_credentials_and_the_test_clock() {
        let start = chrono::Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap()
            + chrono::Duration::microseconds(123_456);
        let test = TestClock {
            clock: Arc::new(MockClock::new(start)),
            seed: 42,
            session: "case-7".into(),
        };
        let headers = common_headers(Some("Bearer t"), Some(&test));
        assert_eq!(
            headers,
            [
                ("Accept", V1_JSON.to_owned()),
                ("Authorization", "Bearer t".to_owned()),
                (TEST_SESSION_HEADER, "case-7".to_owned()),
                (TEST_TIME_HEADER, "2026-12-03T06:00:00.123456Z".to_owned()),
                (TEST_SEED_HEADER, "42".to_owned()),
            ]
        );
        assert_eq!(common_headers(None, None), [("Accept", V1_JSON.to_owned())]);
    }

    #[test]
    fn failures_become_the_servers_errors() {
        let shared = Shared {
            agent: ureq::Agent::new_with_defaults(),
            server: ServerUrl::parse("http://h/").unwrap(),
            authorization: Some("Bearer SECRET".into()),
            test_clock: None,
            timeout: None,
        };
        assert!(!format!("{shared:?}").contains("SECRET"));
        let body = br#"{"error":"ErrNoSuchWorkSpec","message":"m","value":"s"}"#;
        assert!(matches!(shared.failure(404, body), Error::NoSuchWorkSpec { name } if name == "s"));
        let html = shared.failure(502, b"<html>bad gateway</html>");
        assert_eq!(html.backend_kind(), Some(BackendErrorKind::Other));
        let busy = shared.failure(503, b"");
        assert_eq!(busy.backend_kind(), Some(BackendErrorKind::Unavailable));
    }
}
