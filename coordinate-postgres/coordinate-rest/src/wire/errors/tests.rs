use super::*;

/// Every variant, with awkward names.
fn every_variant() -> Vec<Error> {
    vec![
        Error::NoWorkSpecName,
        Error::BadWorkSpecName,
        Error::ChangedName,
        Error::CannotBecomeContinuous,
        Error::WrongBackend,
        Error::no_such_work_spec("spec with / and :"),
        Error::no_such_work_unit(""),
        Error::gone(ObjectKind::Namespace, "ns"),
        Error::gone(ObjectKind::WorkSpec, "a:b"),
        Error::gone(ObjectKind::WorkUnit, ""),
        Error::gone(ObjectKind::Worker, "w"),
        Error::gone(ObjectKind::Attempt, "unit"),
        Error::lost_lease("s/p", "-u"),
        Error::not_pending("", "unit/2"),
        Error::invalid("priority", "NaN is not a finite number"),
        Error::invalid("a what no backend uses", "because: reasons"),
        Error::backend(BackendErrorKind::Unavailable, "connection refused"),
        Error::backend(BackendErrorKind::PoolExhausted, "all 2 busy"),
        Error::backend(BackendErrorKind::Conflict, "deadlock"),
        Error::backend(BackendErrorKind::Schema, "migration 7"),
        Error::backend(BackendErrorKind::Timeout, "statement timeout"),
        Error::backend(BackendErrorKind::Other, "who knows: what"),
    ]
}

/// What a test can compare: the variant's debug form, with a backend
/// error's source as text.
fn shown(error: &Error) -> String {
    match error {
        Error::Backend { kind, source } => format!("Backend({kind:?}, {source})"),
        other => format!("{other:?}"),
    }
}

#[test]
fn every_variant_survives_the_wire() {
    for error in every_variant() {
        let (status, body) = error_response(&error);
        let text = serde_json::to_string(&body).unwrap();
        let read: ErrorResponse = serde_json::from_str(&text).unwrap();
        let rebuilt = error_from_response(status, &read);
        assert_eq!(shown(&rebuilt), shown(&error), "through {status} {text}");
        assert_eq!(rebuilt.to_string(), error.to_string());
        assert_eq!(rebuilt.is_transient(), error.is_transient());
    }
}

#[test]
fn statuses_follow_the_table() {
    let status = |e: Error| error_response(&e).0;
    assert_eq!(status(Error::NoWorkSpecName), 400);
    assert_eq!(status(Error::invalid("data", "x")), 400);
    assert_eq!(status(Error::no_such_work_spec("s")), 404);
    assert_eq!(status(Error::gone(ObjectKind::Worker, "w")), 404);
    assert_eq!(status(Error::lost_lease("s", "u")), 409);
    assert_eq!(status(Error::not_pending("s", "u")), 409);
    assert_eq!(
        status(Error::backend(BackendErrorKind::Unavailable, "x")),
        503
    );
    assert_eq!(
        status(Error::backend(BackendErrorKind::PoolExhausted, "x")),
        503
    );
    assert_eq!(status(Error::backend(BackendErrorKind::Conflict, "x")), 500);
    assert_eq!(
        retry_after_seconds(&Error::backend(BackendErrorKind::PoolExhausted, "x")),
        Some(1)
    );
    assert_eq!(retry_after_seconds(&Error::NoWorkSpecName), None);
}

#[test]
fn golden_bodies() {
    let text = |e: Error| serde_json::to_string(&error_response(&e).1).unwrap();
    assert_eq!(
        text(Error::no_such_work_spec("fetch")),
        r#"{"error":"ErrNoSuchWorkSpec","message":"no such work spec \"fetch\"","value":"fetch"}"#
    );
    assert_eq!(
        text(Error::lost_lease("s", "a b")),
        r#"{"error":"ErrLostLease","message":"the attempt on work unit \"a b\" of work spec \"s\" is no longer the unit's active attempt (lease lost)","value":"s/-YSBi"}"#
    );
    assert_eq!(
        text(Error::backend(BackendErrorKind::PoolExhausted, "busy")),
        r#"{"error":"ErrBackend","message":"backend failure: connection pool exhausted: busy","value":"pool_exhausted"}"#
    );
    assert_eq!(
        text(Error::gone(ObjectKind::WorkSpec, "s")),
        r#"{"error":"ErrGone","message":"work spec \"s\" no longer exists","value":"work_spec:s"}"#
    );
}

#[test]
fn go_and_unknown_bodies() {
    // go's server sends no value for these.
    let go = ErrorResponse {
        error: "ErrWrongBackend".into(),
        message: "whatever".into(),
        ..ErrorResponse::default()
    };
    assert!(matches!(error_from_response(500, &go), Error::WrongBackend));
    for body in [
        ErrorResponse::other("Method PATCH not allowed"),
        ErrorResponse {
            error: "panic".into(),
            message: "boom".into(),
            stack: "trace".into(),
            ..ErrorResponse::default()
        },
        ErrorResponse {
            error: "ErrLostLease".into(),
            ..ErrorResponse::default()
        },
        ErrorResponse {
            error: "ErrGone".into(),
            value: "planet:x".into(),
            ..ErrorResponse::default()
        },
    ] {
        let error = error_from_response(405, &body);
        assert_eq!(
            error.backend_kind(),
            Some(BackendErrorKind::Other),
            "{body:?}"
        );
        assert!(std::error::Error::source(&error)
            .unwrap()
            .to_string()
            .contains("405"));
    }
}

#[test]
fn unknown_whats_are_kept_once() {
    let body = |what: &str| {
        error_response(&Error::invalid("x", "y"))
            .1
            .clone()
            .with_value(what)
    };
    let first = error_from_response(400, &body("brand new thing"));
    let second = error_from_response(400, &body("brand new thing"));
    match (first, second) {
        (Error::InvalidInput { what: a, .. }, Error::InvalidInput { what: b, .. }) => {
            assert_eq!(a, "brand new thing");
            assert!(std::ptr::eq(a, b), "interned once");
        }
        other => panic!("{other:?}"),
    }
}

impl ErrorResponse {
    fn with_value(mut self, value: &str) -> Self {
        self.value = value.to_owned();
        self
    }
}
