//! The operations the model check generates, and how they are generated.

use coordinate_api::WorkUnitStatus;
use proptest::prelude::*;

/// Unit names are `u0` … `u4`: few enough that operations keep hitting
/// the same units.
pub const UNITS: u8 = 5;
/// Workers `w0` and `w1`.
pub const WORKERS: u8 = 2;
/// Chained units `c0` … `c2`, created in the `then` spec by finishing.
pub const CHAINED: u8 = 3;

/// One call (or a group of reads) made on both backends.
#[derive(Debug, Clone)]
pub enum Op {
    /// `add_work_unit(u{unit})`, optionally not before now + `delay` seconds.
    Add {
        unit: u8,
        priority: i8,
        delay: Option<u16>,
    },
    /// `request_attempts` by worker `w{worker}`.
    Request {
        worker: u8,
        batch: u8,
        lifetime: u16,
    },
    /// Calls on the `attempt % len`-th attempt returned so far. A finish
    /// with `output` gives data whose `output` names unit `c{output}` of
    /// the `then` work spec.
    Finish {
        attempt: u8,
        data: bool,
        output: Option<u8>,
    },
    Fail {
        attempt: u8,
        data: bool,
    },
    Retry {
        attempt: u8,
        delay: u16,
    },
    Renew {
        attempt: u8,
        extend: u16,
    },
    Expire {
        attempt: u8,
    },
    /// `complete_attempts` with one entry per `(attempt, outcome, data)`:
    /// outcome 0 finish (with `output` naming `c{data % CHAINED}` when
    /// `data` is odd), 1 fail, 2 retry after `data` seconds, 3 expire.
    Complete {
        entries: Vec<(u8, u8, u8)>,
    },
    /// `renew_attempts` of the attempts named, by `extend` seconds.
    RenewAll {
        attempts: Vec<u8>,
        extend: u16,
    },
    /// `clear_active_attempt` on a unit.
    Clear {
        unit: u8,
    },
    /// Moves both clocks forward by this many seconds.
    Advance {
        secs: u16,
    },
    /// `delete_work_units` by names (all units when empty) and statuses.
    Delete {
        units: Vec<u8>,
        statuses: Vec<WorkUnitStatus>,
    },
    SetPriorities {
        units: Vec<u8>,
        priority: i8,
    },
    SetMeta {
        max_retries: i32,
        paused: bool,
    },
    /// `count_work_unit_status` alone.
    Count,
    /// One unit's `status` alone.
    Status {
        unit: u8,
    },
    /// Reads every unit, the counts, the meta and every attempt.
    Observe,
}

fn unit() -> impl Strategy<Value = u8> {
    0..UNITS
}

fn status() -> impl Strategy<Value = WorkUnitStatus> {
    prop_oneof![
        Just(WorkUnitStatus::Available),
        Just(WorkUnitStatus::Pending),
        Just(WorkUnitStatus::Finished),
        Just(WorkUnitStatus::Failed),
        Just(WorkUnitStatus::Delayed),
    ]
}

pub fn op() -> impl Strategy<Value = Op> {
    let seconds = prop_oneof![1u16..120, Just(60), Just(900), Just(901), 0u16..2_000];
    prop_oneof![
        4 => (unit(), -1i8..3, proptest::option::weighted(0.2, 1u16..600))
            .prop_map(|(unit, priority, delay)| Op::Add { unit, priority, delay }),
        4 => (0..WORKERS, 1u8..4, prop_oneof![Just(60u16), Just(900)])
            .prop_map(|(worker, batch, lifetime)| Op::Request { worker, batch, lifetime }),
        2 => (any::<u8>(), any::<bool>(), proptest::option::weighted(0.3, 0..CHAINED))
            .prop_map(|(attempt, data, output)| Op::Finish { attempt, data, output }),
        1 => (any::<u8>(), any::<bool>()).prop_map(|(attempt, data)| Op::Fail { attempt, data }),
        1 => (any::<u8>(), 0u16..300).prop_map(|(attempt, delay)| Op::Retry { attempt, delay }),
        1 => (any::<u8>(), seconds.clone()).prop_map(|(attempt, extend)| Op::Renew { attempt, extend }),
        1 => any::<u8>().prop_map(|attempt| Op::Expire { attempt }),
        1 => unit().prop_map(|unit| Op::Clear { unit }),
        2 => proptest::collection::vec((any::<u8>(), 0u8..4, any::<u8>()), 0..6)
            .prop_map(|entries| Op::Complete { entries }),
        1 => (proptest::collection::vec(any::<u8>(), 0..4), seconds.clone())
            .prop_map(|(attempts, extend)| Op::RenewAll { attempts, extend }),
        3 => seconds.prop_map(|secs| Op::Advance { secs }),
        1 => (proptest::collection::vec(unit(), 0..3), proptest::collection::vec(status(), 0..2))
            .prop_map(|(units, statuses)| Op::Delete { units, statuses }),
        1 => (proptest::collection::vec(unit(), 1..3), -1i8..3)
            .prop_map(|(units, priority)| Op::SetPriorities { units, priority }),
        1 => (0i32..3, proptest::bool::weighted(0.2))
            .prop_map(|(max_retries, paused)| Op::SetMeta { max_retries, paused }),
        1 => Just(Op::Count),
        1 => unit().prop_map(|unit| Op::Status { unit }),
        2 => Just(Op::Observe),
    ]
}
