//! The attempt state machine: what a call on an attempt does, given the
//! attempt's status and whether it is still its unit's active attempt.
//!
//! Backends read those two facts (under their lock), ask [`decide`], and
//! carry out the [`Effect`] in their own store, so both apply the same
//! rules. [`decide`] is pure and looks at one attempt, so a batch of
//! completions can call it per entry.
//!
//! # The table
//!
//! "Live" means Pending, or Expired while still the unit's active attempt.
//! `data` is the call's data; `None` keeps what the attempt has.
//!
//! | call | allowed when | effect | otherwise |
//! | --- | --- | --- | --- |
//! | `renew(d, data)` | Pending or Expired | active: expiration = now + d, status Pending, data replaced if given | not active: the attempt becomes Expired (data kept if given) and the call fails with lost lease; other statuses: not pending |
//! | `expire(data)` | Pending (Expired: a no-op) | status Expired, end time set, no longer the unit's active attempt | not pending |
//! | `finish(data)` | live, or Failed (as go-coordinate allows) | status Finished, end time set; if still active and the data has `output` and the spec has `then`, the next spec's units are made | not pending |
//! | `fail(data)` | live | status Failed, end time set | not pending |
//! | `retry(data, delay)` | live | status Retryable, end time set, no longer active, the unit not before now + delay | not pending |
//!
//! Every call that ends an attempt takes it off its worker's active list.
//! The test `every_call_in_every_state_follows_the_table` below writes out
//! each of the 50 cells (5 calls × 5 statuses × active or not) by hand; the
//! conformance suite's `attempt_lifecycle` cases check the same table
//! through each backend.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::backend::validate::add_duration;
use crate::clock::truncate_to_micros;

use crate::error::{Error, Result};
use crate::status::AttemptStatus;

/// A state change a worker asks of one of its attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Call {
    /// `Attempt::renew`.
    Renew,
    /// `Attempt::expire`.
    Expire,
    /// `Attempt::finish`.
    Finish,
    /// `Attempt::fail`.
    Fail,
    /// `Attempt::retry`.
    Retry,
}

impl Call {
    /// Every call, for tables and tests.
    pub const ALL: [Call; 5] = [
        Call::Renew,
        Call::Expire,
        Call::Finish,
        Call::Fail,
        Call::Retry,
    ];
}

/// A [`Call`] with the time it needs: what a backend is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Renew the lease until this time.
    Renew(DateTime<Utc>),
    /// Expire the attempt.
    Expire,
    /// Finish the attempt.
    Finish,
    /// Fail the attempt.
    Fail,
    /// Retry, the unit waiting until this time.
    Retry(DateTime<Utc>),
}

impl Request {
    /// The request for `call` made at `now`; `span` is a renewal's
    /// extension or a retry's delay (ignored by the other calls).
    ///
    /// Errors: [`Error::InvalidInput`] when `now + span` is past the
    /// largest time a backend stores.
    pub fn at(call: Call, span: Duration, now: DateTime<Utc>) -> Result<Request> {
        Ok(match call {
            Call::Renew => Request::Renew(add_duration("lease extension", now, span)?),
            Call::Retry => {
                Request::Retry(truncate_to_micros(add_duration("retry delay", now, span)?))
            }
            Call::Expire => Request::Expire,
            Call::Finish => Request::Finish,
            Call::Fail => Request::Fail,
        })
    }

    /// The call this request makes.
    pub fn call(&self) -> Call {
        match self {
            Request::Renew(_) => Call::Renew,
            Request::Expire => Call::Expire,
            Request::Finish => Call::Finish,
            Request::Fail => Call::Fail,
            Request::Retry(_) => Call::Retry,
        }
    }

    /// The new lease end of a renewal.
    pub fn lease_end(&self) -> Option<DateTime<Utc>> {
        match self {
            Request::Renew(until) => Some(*until),
            _ => None,
        }
    }

    /// The unit's not-before time of a retry.
    pub fn not_before(&self) -> Option<DateTime<Utc>> {
        match self {
            Request::Retry(not_before) => Some(*not_before),
            _ => None,
        }
    }
}

/// What happens to the attempt's own record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing changes, not even the data (expiring an expired attempt).
    Nothing,
    /// Only the data is replaced, when the caller gave some.
    DataOnly,
    /// The lease is extended: status pending, expiration now + the
    /// extension, no end time, back on its worker's active list; data
    /// replaced when given.
    Extend,
    /// The attempt ends with this status: end time now, off its worker's
    /// active list, data replaced when given.
    End(AttemptStatus),
}

/// The effect of a call that is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effect {
    /// What happens to the attempt's record.
    pub change: Change,
    /// Whether the unit stops having this attempt active (when it still
    /// has it).
    pub release: bool,
    /// Whether the unit's not-before time becomes now + the retry delay.
    pub delay_unit: bool,
    /// Whether the effective data's `output` becomes units of the spec's
    /// `then` work spec (if it names one that exists).
    pub chain: bool,
    /// Whether the caller gets [`Error::LostLease`] once the change is
    /// stored: another attempt holds the unit now.
    pub lost_lease: bool,
}

impl Effect {
    const NONE: Effect = Effect {
        change: Change::Nothing,
        release: false,
        delay_unit: false,
        chain: false,
        lost_lease: false,
    };

    /// The attempt's status after the change, given its status before.
    pub fn status_after(&self, before: AttemptStatus) -> AttemptStatus {
        match self.change {
            Change::Nothing | Change::DataOnly => before,
            Change::Extend => AttemptStatus::Pending,
            Change::End(status) => status,
        }
    }

    /// The result the caller gets once the effect is stored, for an
    /// attempt on `work_unit` of `work_spec`.
    pub fn outcome(&self, work_spec: &str, work_unit: &str) -> Result<()> {
        if self.lost_lease {
            Err(Error::lost_lease(work_spec, work_unit))
        } else {
            Ok(())
        }
    }
}

/// Whether an attempt is live: pending, or expired while still its unit's
/// active attempt (its lease ran out but nobody took the unit).
pub fn is_live(status: AttemptStatus, active: bool) -> bool {
    status == AttemptStatus::Pending || (status == AttemptStatus::Expired && active)
}

/// Whether `finish` is allowed: a live attempt, or a failed one
/// (go-coordinate lets a failed attempt finish after all).
pub fn may_finish(status: AttemptStatus, active: bool) -> bool {
    is_live(status, active) || status == AttemptStatus::Failed
}

/// What `call` does to an attempt in `status` that is (`active`) or is not
/// its unit's active attempt, or `None` when the call is not allowed:
/// nothing changes then, and the caller answers [`Error::NotPending`]
/// naming the attempt's unit.
pub fn decide(call: Call, status: AttemptStatus, active: bool) -> Option<Effect> {
    use AttemptStatus::{Expired, Failed, Finished, Pending, Retryable};
    let end = |status| Effect {
        change: Change::End(status),
        ..Effect::NONE
    };
    match call {
        Call::Renew => match (status, active) {
            // No expiry first: a worker that renews after its lease ran
            // out, but before anyone else took the unit, keeps it.
            (Pending | Expired, true) => Some(Effect {
                change: Change::Extend,
                ..Effect::NONE
            }),
            // Someone else holds the unit now: this attempt is over.
            (Pending, false) => Some(Effect {
                lost_lease: true,
                ..end(Expired)
            }),
            (Expired, false) => Some(Effect {
                change: Change::DataOnly,
                lost_lease: true,
                ..Effect::NONE
            }),
            (Finished | Failed | Retryable, _) => None,
        },
        Call::Expire => match status {
            Pending => Some(Effect {
                release: true,
                ..end(Expired)
            }),
            Expired => Some(Effect::NONE),
            Finished | Failed | Retryable => None,
        },
        Call::Finish if may_finish(status, active) => Some(Effect {
            chain: active,
            ..end(Finished)
        }),
        Call::Fail if is_live(status, active) => Some(end(Failed)),
        Call::Retry if is_live(status, active) => Some(Effect {
            release: true,
            delay_unit: true,
            ..end(Retryable)
        }),
        Call::Finish | Call::Fail | Call::Retry => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttemptStatus::{Expired, Failed, Finished, Pending, Retryable};

    /// One row of the table: the expected outcome, written out by hand.
    fn expected(call: Call, status: AttemptStatus, active: bool) -> Option<Effect> {
        let effect = |change, release, delay_unit, chain, lost_lease| {
            Some(Effect {
                change,
                release,
                delay_unit,
                chain,
                lost_lease,
            })
        };
        let f = false;
        let t = true;
        match (call, status, active) {
            (Call::Renew, Pending, true) => effect(Change::Extend, f, f, f, f),
            (Call::Renew, Expired, true) => effect(Change::Extend, f, f, f, f),
            (Call::Renew, Pending, false) => effect(Change::End(Expired), f, f, f, t),
            (Call::Renew, Expired, false) => effect(Change::DataOnly, f, f, f, t),
            (Call::Renew, _, _) => None,

            (Call::Expire, Pending, _) => effect(Change::End(Expired), t, f, f, f),
            (Call::Expire, Expired, _) => effect(Change::Nothing, f, f, f, f),
            (Call::Expire, _, _) => None,

            (Call::Finish, Pending | Failed, active) => {
                effect(Change::End(Finished), f, f, active, f)
            }
            (Call::Finish, Expired, true) => effect(Change::End(Finished), f, f, t, f),
            (Call::Finish, _, _) => None,

            (Call::Fail, Pending, _) | (Call::Fail, Expired, true) => {
                effect(Change::End(Failed), f, f, f, f)
            }
            (Call::Fail, _, _) => None,

            (Call::Retry, Pending, _) | (Call::Retry, Expired, true) => {
                effect(Change::End(Retryable), t, t, f, f)
            }
            (Call::Retry, _, _) => None,
        }
    }

    #[test]
    fn every_call_in_every_state_follows_the_table() {
        let mut rows = 0;
        for call in Call::ALL {
            for status in AttemptStatus::ALL {
                for active in [false, true] {
                    let got = decide(call, status, active);
                    match expected(call, status, active) {
                        Some(effect) => assert_eq!(
                            got.as_ref(),
                            Some(&effect),
                            "{call:?} on {status:?} (active {active})"
                        ),
                        None => assert!(
                            got.is_none(),
                            "{call:?} on {status:?} (active {active}) gave {got:?}"
                        ),
                    }
                    rows += 1;
                }
            }
        }
        assert_eq!(rows, 5 * 5 * 2, "the whole table was checked");
    }

    #[test]
    fn a_delayed_unit_is_always_released() {
        // Backends release and delay in one statement.
        for call in Call::ALL {
            for status in AttemptStatus::ALL {
                for active in [false, true] {
                    if let Some(effect) = decide(call, status, active) {
                        assert!(!effect.delay_unit || effect.release, "{call:?} {status:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn requests_carry_their_times() {
        let t = chrono::DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(Request::Renew(t).call(), Call::Renew);
        assert_eq!(Request::Renew(t).lease_end(), Some(t));
        assert_eq!(Request::Retry(t).call(), Call::Retry);
        assert_eq!(Request::Retry(t).not_before(), Some(t));
        assert_eq!(Request::Retry(t).lease_end(), None);
        for (request, call) in [
            (Request::Expire, Call::Expire),
            (Request::Finish, Call::Finish),
            (Request::Fail, Call::Fail),
        ] {
            assert_eq!(request.call(), call);
            assert_eq!((request.lease_end(), request.not_before()), (None, None));
        }
    }

    #[test]
    fn liveness() {
        assert!(is_live(Pending, false) && is_live(Pending, true));
        assert!(is_live(Expired, true) && !is_live(Expired, false));
        for status in [Finished, Failed, Retryable] {
            assert!(!is_live(status, true) && !is_live(status, false));
        }
        assert!(may_finish(Failed, false) && !may_finish(Retryable, true));
    }

    #[test]
    fn outcomes_and_statuses_after() {
        let lost = decide(Call::Renew, Pending, false).unwrap();
        assert!(matches!(
            lost.outcome("s", "u"),
            Err(Error::LostLease { .. })
        ));
        assert_eq!(lost.status_after(Pending), Expired);
        let renewed = decide(Call::Renew, Expired, true).unwrap();
        assert!(renewed.outcome("s", "u").is_ok());
        assert_eq!(renewed.status_after(Expired), Pending);
        let noop = decide(Call::Expire, Expired, false).unwrap();
        assert_eq!(noop.status_after(Expired), Expired);
        assert_eq!(
            decide(Call::Renew, Expired, false)
                .unwrap()
                .status_after(Expired),
            Expired
        );
    }
}
