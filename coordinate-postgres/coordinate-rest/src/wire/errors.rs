//! Errors on the wire: go's `ErrorResponse` body and the mapping of every
//! [`coordinate_api::Error`] to a name, a value and an HTTP status, and
//! back, so that a client rebuilds the very variant the server met.
//!
//! | variant | `error` | `value` | status |
//! | --- | --- | --- | --- |
//! | `NoWorkSpecName` | `ErrNoWorkSpecName` | | 400 |
//! | `BadWorkSpecName` | `ErrBadWorkSpecName` | | 400 |
//! | `ChangedName` | `ErrChangedName` | | 400 |
//! | `CannotBecomeContinuous` | `ErrCannotBecomeContinuous` | | 400 |
//! | `WrongBackend` | `ErrWrongBackend` | | 400 |
//! | `NoSuchWorkSpec` | `ErrNoSuchWorkSpec` | the name | 404 |
//! | `NoSuchWorkUnit` | `ErrNoSuchWorkUnit` | the name | 404 |
//! | `Gone` | `ErrGone` | `kind:name` (`namespace`, `work_spec`, `work_unit`, `worker`, `attempt`) | 404 |
//! | `LostLease` | `ErrLostLease` | `spec/unit`, each an encoded name | 409 |
//! | `NotPending` | `ErrNotPending` | `spec/unit`, each an encoded name | 409 |
//! | `InvalidInput` | `ErrInvalidInput` | what was refused | 400 |
//! | `Backend` | `ErrBackend` | the kind: `unavailable`, `pool_exhausted`, `conflict`, `schema`, `timeout`, `other` | 503 (unavailable, pool exhausted; with `Retry-After`), else 500 |
//!
//! `message` is the error's text (for `Backend`, followed by `": "` and
//! its cause). Names the client does not know (go's `error`, `panic`,
//! and the server's own refusals of malformed requests) become
//! `Backend` errors of kind `Other` carrying the status and message.

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use coordinate_api::{BackendErrorKind, Error, ObjectKind};
use serde::{Deserialize, Serialize};

use super::names::{decode_name, encode_name};

/// go's error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error's name (`ErrLostLease`, …), or go's `error` / `panic`.
    #[serde(default)]
    pub error: String,
    /// Text for people.
    #[serde(default)]
    pub message: String,
    /// The error's parameter, if it has one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// A stack trace (go's panics only; never sent by ours).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stack: String,
}

impl ErrorResponse {
    /// A body for a failure that is no coordinate error (a malformed
    /// request, an unknown route): go's name `error` and a message.
    pub fn other(message: impl Into<String>) -> Self {
        ErrorResponse {
            error: "error".to_owned(),
            message: message.into(),
            ..ErrorResponse::default()
        }
    }
}

fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Namespace => "namespace",
        ObjectKind::WorkSpec => "work_spec",
        ObjectKind::WorkUnit => "work_unit",
        ObjectKind::Worker => "worker",
        ObjectKind::Attempt => "attempt",
        _ => "object",
    }
}

fn kind_from_name(name: &str) -> Option<ObjectKind> {
    Some(match name {
        "namespace" => ObjectKind::Namespace,
        "work_spec" => ObjectKind::WorkSpec,
        "work_unit" => ObjectKind::WorkUnit,
        "worker" => ObjectKind::Worker,
        "attempt" => ObjectKind::Attempt,
        _ => return None,
    })
}

/// The snake-case name of a backend error kind.
pub fn backend_kind_name(kind: BackendErrorKind) -> &'static str {
    match kind {
        BackendErrorKind::Unavailable => "unavailable",
        BackendErrorKind::PoolExhausted => "pool_exhausted",
        BackendErrorKind::Conflict => "conflict",
        BackendErrorKind::Schema => "schema",
        BackendErrorKind::Timeout => "timeout",
        _ => "other",
    }
}

fn backend_kind_from_name(name: &str) -> BackendErrorKind {
    match name {
        "unavailable" => BackendErrorKind::Unavailable,
        "pool_exhausted" => BackendErrorKind::PoolExhausted,
        "conflict" => BackendErrorKind::Conflict,
        "schema" => BackendErrorKind::Schema,
        "timeout" => BackendErrorKind::Timeout,
        _ => BackendErrorKind::Other,
    }
}

/// Seconds a client should wait before trying again, for the errors a
/// server answers with 503 (`Retry-After`).
pub fn retry_after_seconds(error: &Error) -> Option<u32> {
    match error.backend_kind() {
        Some(BackendErrorKind::Unavailable | BackendErrorKind::PoolExhausted) => Some(1),
        _ => None,
    }
}

/// The HTTP status and body for `error`.
pub fn error_response(error: &Error) -> (u16, ErrorResponse) {
    let plain = |status: u16, name: &str, value: String| {
        (
            status,
            ErrorResponse {
                error: name.to_owned(),
                message: error.to_string(),
                value,
                stack: String::new(),
            },
        )
    };
    let pair = |spec: &str, unit: &str| format!("{}/{}", encode_name(spec), encode_name(unit));
    match error {
        Error::NoWorkSpecName => plain(400, "ErrNoWorkSpecName", String::new()),
        Error::BadWorkSpecName => plain(400, "ErrBadWorkSpecName", String::new()),
        Error::ChangedName => plain(400, "ErrChangedName", String::new()),
        Error::CannotBecomeContinuous => plain(400, "ErrCannotBecomeContinuous", String::new()),
        Error::WrongBackend => plain(400, "ErrWrongBackend", String::new()),
        Error::NoSuchWorkSpec { name } => plain(404, "ErrNoSuchWorkSpec", name.clone()),
        Error::NoSuchWorkUnit { name } => plain(404, "ErrNoSuchWorkUnit", name.clone()),
        Error::Gone { kind, name } => plain(404, "ErrGone", format!("{}:{name}", kind_name(*kind))),
        Error::LostLease {
            work_spec,
            work_unit,
        } => plain(409, "ErrLostLease", pair(work_spec, work_unit)),
        Error::NotPending {
            work_spec,
            work_unit,
        } => plain(409, "ErrNotPending", pair(work_spec, work_unit)),
        Error::InvalidInput { what, .. } => plain(400, "ErrInvalidInput", (*what).to_owned()),
        Error::Backend { kind, source } => {
            let status = if retry_after_seconds(error).is_some() {
                503
            } else {
                500
            };
            let (status, mut body) =
                plain(status, "ErrBackend", backend_kind_name(*kind).to_owned());
            body.message = format!("{error}: {source}");
            (status, body)
        }
        other => (500, ErrorResponse::other(other.to_string())),
    }
}

/// `message` less the text `prefix` and `": "` (how the display of a
/// variant starts), or all of it if it does not start so.
fn after_prefix(message: &str, prefix: &str) -> String {
    message
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message)
        .to_owned()
}

/// Rebuilds the error a server answered with. `status` only colours the
/// message of bodies whose name is unknown.
pub fn error_from_response(status: u16, body: &ErrorResponse) -> Error {
    let unknown = || {
        Error::backend(
            BackendErrorKind::Other,
            format!(
                "the server answered {status} {}: {}",
                body.error, body.message
            ),
        )
    };
    let pair = || {
        let (spec, unit) = body.value.split_once('/')?;
        Some((decode_name(spec).ok()?, decode_name(unit).ok()?))
    };
    match body.error.as_str() {
        "ErrNoWorkSpecName" => Error::NoWorkSpecName,
        "ErrBadWorkSpecName" => Error::BadWorkSpecName,
        "ErrChangedName" => Error::ChangedName,
        "ErrCannotBecomeContinuous" => Error::CannotBecomeContinuous,
        "ErrWrongBackend" => Error::WrongBackend,
        "ErrNoSuchWorkSpec" => Error::no_such_work_spec(body.value.clone()),
        "ErrNoSuchWorkUnit" => Error::no_such_work_unit(body.value.clone()),
        "ErrGone" => match body.value.split_once(':') {
            Some((kind, name)) => match kind_from_name(kind) {
                Some(kind) => Error::gone(kind, name),
                None => unknown(),
            },
            None => unknown(),
        },
        "ErrLostLease" => match pair() {
            Some((spec, unit)) => Error::lost_lease(spec, unit),
            None => unknown(),
        },
        "ErrNotPending" => match pair() {
            Some((spec, unit)) => Error::not_pending(spec, unit),
            None => unknown(),
        },
        "ErrInvalidInput" => {
            let why = after_prefix(&body.message, &format!("invalid {}", body.value));
            match intern_what(&body.value) {
                Some(what) => Error::invalid(what, why),
                None => Error::invalid("argument", format!("{}: {why}", body.value)),
            }
        }
        "ErrBackend" => {
            let kind = backend_kind_from_name(&body.value);
            let shown = Error::backend(kind, "").to_string();
            Error::backend(kind, after_prefix(&body.message, &shown))
        }
        _ => unknown(),
    }
}

/// The `what`s of `InvalidInput` that the backends and coordinate-api
/// give, so that rebuilding them allocates nothing.
const KNOWN_WHATS: &[&str] = &[
    "attempt",
    "data",
    "delay",
    "interval",
    "lease extension",
    "lifetime",
    "limit",
    "mode",
    "namespace name",
    "parent",
    "priority",
    "prune cutoff",
    "prune request",
    "retry delay",
    "runtime",
    "then",
    "work spec name",
    "work unit",
    "work unit name",
    "work_specs",
    "worker cutoff",
    "worker expiration",
    "worker name",
];

/// Most distinct unknown `what`s kept for the life of the process; past
/// it, rebuilt errors say "argument" and put the original before `why`.
const MAX_INTERNED: usize = 256;

/// A `&'static str` equal to `what` (an `InvalidInput` needs one): a
/// known name, or a copy kept once per distinct text, up to a bound.
fn intern_what(what: &str) -> Option<&'static str> {
    if let Some(known) = KNOWN_WHATS.iter().find(|k| **k == what) {
        return Some(known);
    }
    static INTERNED: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    let mut interned = INTERNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if let Some(kept) = interned.get(what) {
        return Some(kept);
    }
    if interned.len() >= MAX_INTERNED {
        return None;
    }
    let kept: &'static str = Box::leak(what.to_owned().into_boxed_str());
    interned.insert(kept);
    Some(kept)
}

#[cfg(test)]
mod tests;
