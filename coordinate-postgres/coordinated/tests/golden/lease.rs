//! Leases: one lost to a second worker, one kept by a renewal that came
//! late, and one lost once expiry ran.

use std::time::Duration;

use serde_json::{json, Value};

use super::attempt::{at, lost_lease, make, not_pending, unit};
use super::in_process::{r, InProcess, Step};
use super::{attempt_json, attempt_path, setup, unit_json, unit_path, T0};

/// A second worker takes the unit: the first loses its lease. The holder
/// whose lease ran out keeps the unit by renewing before anything expires
/// it, and loses it once something did.
pub async fn lost_leases() -> InProcess {
    let server = InProcess::new("");
    let w = attempt_path("a", "w", T0);
    let v = attempt_path("a", "v", T0);
    let pending =
        json!({"status": "pending", "data": {"i": 0}, "expiration_time": "2026-12-03T06:01:00Z"});
    let (make_w, body_w) = make("w", "a");
    let (make_v, body_v) = make("v", "a");
    let mut steps = setup(json!({"name": "spec"}), &["a"]);
    steps.extend::<Vec<Step<'_>>>(vec![
        (
            "POST",
            make_w,
            Some(body_w),
            200,
            attempt_json(&w, [4, 5, 6], pending.clone()),
        ),
        (
            "POST",
            make_v,
            Some(body_v),
            200,
            attempt_json(&v, [7, 8, 9], pending.clone()),
        ),
        (
            "GET",
            at(&unit_path("a"), "", 3),
            None,
            200,
            unit_json(
                "a",
                "a",
                [3, 10],
                json!({"data": {"i": 0}, "status": "pending",
                "meta": {"priority": 0.0, "not_before": null}, "active_attempt_url": r(&v, 11)}),
            ),
        ),
        (
            "POST",
            at(&w, "/renew", 4),
            Some(r#"{"extend_duration": 60000000000}"#),
            409,
            lost_lease("a"),
        ),
        // Renewing told it: it is expired now.
        (
            "GET",
            at(&w, "", 4),
            None,
            200,
            attempt_json(
                &w,
                [4, 12, 13],
                json!({"status": "expired", "data": {"i": 0},
                "end_time": T0, "expiration_time": "2026-12-03T06:01:00Z"}),
            ),
        ),
        (
            "POST",
            at(&w, "/renew", 4),
            Some(r#"{"extend_duration": 60000000000}"#),
            409,
            lost_lease("a"),
        ),
        (
            "POST",
            at(&w, "/finish", 4),
            Some("{}"),
            409,
            not_pending("a"),
        ),
        (
            "POST",
            at(&v, "/renew", 7),
            Some(r#"{"extend_duration": 120000000000}"#),
            204,
            Value::Null,
        ),
    ]);
    server.check(&steps).await;
    // Five minutes on, v's lease (to 06:02) has run out, but nothing has
    // looked since: renewing finds it still the unit's, and keeps it.
    server.clock().advance(Duration::from_secs(5 * 60));
    let steps: Vec<Step<'_>> = vec![
        (
            "POST",
            at(&v, "/renew", 7),
            Some(r#"{"extend_duration": 60000000000}"#),
            204,
            Value::Null,
        ),
        (
            "GET",
            at(&v, "", 7),
            None,
            200,
            attempt_json(
                &v,
                [7, 14, 15],
                json!({"status": "pending", "data": {"i": 0},
                "expiration_time": "2026-12-03T06:06:00Z"}),
            ),
        ),
    ];
    server.check(&steps).await;
    // Past the new lease, a read expires the attempt (ending it then, not
    // when the lease ran out) and releases the unit: renewing is too late.
    server.clock().advance(Duration::from_secs(5 * 60));
    let steps: Vec<Step<'_>> = vec![
        (
            "GET",
            at(&v, "", 7),
            None,
            200,
            attempt_json(
                &v,
                [7, 16, 17],
                json!({"status": "expired", "data": {"i": 0},
                "end_time": "2026-12-03T06:10:00Z", "expiration_time": "2026-12-03T06:06:00Z"}),
            ),
        ),
        (
            "POST",
            at(&v, "/renew", 7),
            Some(r#"{"extend_duration": 60000000000}"#),
            409,
            lost_lease("a"),
        ),
        (
            "GET",
            at(&unit_path("a"), "", 3),
            None,
            200,
            unit("a", [3, 18], "available", Value::Null),
        ),
    ];
    server.check(&steps).await;
    server
}

#[tokio::test]
async fn lost_leases_answer_as_pinned() {
    lost_leases().await;
}
