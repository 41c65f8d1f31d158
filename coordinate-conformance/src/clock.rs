//! A clock that goes backwards (a host's clock corrected, a mock clock set
//! back): leases still never overlap.

use std::time::Duration;

use coordinate_api::{AttemptRequest, AttemptStatus, Clock};

use crate::attempt::request_one;
use crate::{Backend, Fixture};

/// After the clock is set back, a claimed unit's new attempt starts when the previous one ended, not earlier.
pub fn claim_after_clock_set_back_starts_after_previous_end(backend: Backend<'_>) {
    let fx = Fixture::new(backend);
    let spec = fx.spec("spec", &[]);
    fx.unit(&spec, "unit");
    let worker = fx.worker("worker");
    let first = request_one(worker.as_ref());
    let start = fx.clock.now();
    fx.clock.advance(Duration::from_secs(10));
    first.expire(None).expect("expire");
    let ended = first.end_time().expect("end_time").expect("ended");
    assert_eq!(ended, start + Duration::from_secs(10));

    fx.clock.set(start + Duration::from_secs(5));
    let request = AttemptRequest {
        lifetime: Duration::from_secs(60),
        ..AttemptRequest::default()
    };
    let attempts = worker.request_attempts(&request).expect("request");
    assert_eq!(attempts.len(), 1, "the unit is available again");
    let second = &attempts[0];
    assert_eq!(second.start_time().expect("start"), ended);
    assert_eq!(
        second.expiration_time().expect("expiration"),
        ended + Duration::from_secs(60),
        "the lease is as long as asked, counted from the start"
    );
    assert_eq!(second.status().expect("status"), AttemptStatus::Pending);
}
