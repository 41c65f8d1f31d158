//! `Namespace::complete_attempts` and `Namespace::renew_attempts`: a whole
//! batch in one REPEATABLE READ transaction with a fixed number of
//! statements, whatever its size.
//!
//! 1. [`LOCK_BATCH`] locks every attempt of the batch and its unit, in id
//!    order (so concurrent batches take row locks in one order and cannot
//!    deadlock on each other), and reads what the lifecycle rules need.
//! 2. The entries are applied in order, in memory, by
//!    `coordinate_api::backend::lifecycle::decide`, the rules the single calls use;
//!    an attempt named twice sees the first entry's effect.
//! 3. [`END_BATCH`] writes every changed attempt, [`RELEASE_BATCH`] every
//!    changed unit (arrays bound with `unnest`), and chained units are
//!    upserted once per `then` work spec.
//!
//! Stale completions cannot overwrite a newer attempt: a unit is released
//! only while the attempt released is still its active attempt, under the
//! lock taken in step 1.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use coordinate_api::backend::chaining::extract_output;
use coordinate_api::backend::completion::{check_completions, check_renewals, Entry as BatchEntry};
use coordinate_api::backend::lifecycle::{decide, Call, Change, Request};
use coordinate_api::backend::validate::{validate_attempt_namespace, validate_work_unit_batch};
use coordinate_api::data::decode;
use coordinate_api::{
    downcast, Attempt, AttemptStatus, Completion, Data, Error, NewWorkUnit, ObjectKind, Outcome,
    Result,
};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Bytea, Integer, Nullable, Text, Timestamptz};

use crate::db::attempt_status::DbStatus;
use crate::db::listener::announce_taken;
use crate::db::transaction::{in_callers_transaction, with_retry, Isolation, TxResult};
use crate::handle::attempt::PgAttempt;
use crate::handle::finish::{finish_unless_chaining, may_chain};
use crate::handle::namespace::PgNamespace;
use crate::handle::upsert::upsert_units;
use crate::schema::sql_types;
use crate::sql::completion::{END_BATCH, LOCK_BATCH, RELEASE_BATCH};

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Integer)]
    work_unit_id: i32,
    #[diesel(sql_type = Integer)]
    work_spec_id: i32,
    #[diesel(sql_type = Bytea)]
    unit_name: Vec<u8>,
    #[diesel(sql_type = sql_types::AttemptStatus)]
    status: DbStatus,
    #[diesel(sql_type = Bool)]
    listed: bool,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    end_time: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    expiration_time: DateTime<Utc>,
    #[diesel(sql_type = Bool)]
    active: bool,
    #[diesel(sql_type = Bytea)]
    data: Vec<u8>,
    #[diesel(sql_type = Nullable<Integer>)]
    next_spec: Option<i32>,
}

/// An entry after its checks: the attempt id, what it asks and the
/// encoded data it stores.
struct Entry {
    id: i32,
    /// The attempt's work spec and unit, for the errors that name them.
    spec_name: Arc<str>,
    unit_name: Arc<str>,
    call: Call,
    data: Option<Vec<u8>>,
    /// A retry's delay or a renewal's extension.
    span: Duration,
}

/// An attempt's state as the batch changes it.
struct Working {
    unit: i32,
    /// The unit's spec and name: a chained unit of the same name replaces
    /// it, and the attempt stops being its unit's active one.
    spec: i32,
    unit_name: Vec<u8>,
    status: AttemptStatus,
    active: bool,
    /// The effective data (what `finish(None)` would chain from).
    data: Vec<u8>,
    new_data: Option<Vec<u8>>,
    end: Option<DateTime<Utc>>,
    on_worker_list: bool,
    expiration: DateTime<Utc>,
    next_spec: Option<i32>,
    changed: bool,
}

impl PgNamespace {
    /// `Namespace::complete_attempts`.
    pub(crate) fn complete(&self, batch: &[Completion]) -> Result<Vec<Result<()>>> {
        self.apply(check_completions(batch, |e| self.check(e)))
    }

    /// `Namespace::renew_attempts`.
    pub(crate) fn renew_all(
        &self,
        attempts: &[Arc<dyn Attempt>],
        extend: Duration,
    ) -> Result<Vec<Result<()>>> {
        let now = self.shared.now();
        self.apply(check_renewals(attempts, extend, now, |e| self.check(e))?)
    }

    /// Checks one entry before the transaction: our backend, this
    /// namespace, data within the limits.
    fn check(&self, entry: BatchEntry<'_>) -> Result<Entry> {
        let attempt = downcast::<PgAttempt>(entry.attempt as &dyn std::any::Any)?;
        validate_attempt_namespace(self.is_same(&attempt.worker.namespace))?;
        let data = entry.data.map(|d| self.shared.encode(d)).transpose()?;
        Ok(Entry {
            id: attempt.id,
            spec_name: attempt.unit.spec.name.clone(),
            unit_name: attempt.unit.name.clone(),
            call: entry.call,
            data,
            span: entry.span,
        })
    }

    /// `in_transaction::complete_attempts`: the same checks and the same
    /// statements as [`PgNamespace::complete`], run once on the caller's
    /// connection inside the caller's transaction.
    pub(crate) fn complete_on(
        &self,
        conn: &mut PgConnection,
        batch: &[Completion],
    ) -> Result<Vec<Result<()>>> {
        // One finish that cannot chain is one statement, as
        // `Attempt::finish` does it.
        if let [Completion {
            attempt,
            outcome: Outcome::Finish(data),
        }] = batch
        {
            if let Some(answer) = self.quick_finish_on(conn, attempt.as_ref(), data.as_ref())? {
                return Ok(vec![answer]);
            }
        }
        self.apply_by(
            check_completions(batch, |e| self.check(e)),
            |ids, checked| {
                in_callers_transaction(self, conn, |conn| self.apply_locked(conn, ids, checked))
            },
        )
    }

    /// [`finish_unless_chaining`] on the caller's connection: the answer,
    /// or `None` when the finish may chain (the batch path does it then).
    /// A refused attempt (another backend's, another namespace's) is an
    /// answer, as in a batch.
    fn quick_finish_on(
        &self,
        conn: &mut PgConnection,
        attempt: &dyn Attempt,
        data: Option<&Data>,
    ) -> Result<Option<Result<()>>> {
        let checked = downcast::<PgAttempt>(attempt as &dyn std::any::Any).and_then(|attempt| {
            validate_attempt_namespace(self.is_same(&attempt.worker.namespace))?;
            let bytes = data.map(|d| self.shared.encode(d)).transpose()?;
            Ok((attempt, bytes))
        });
        let (attempt, bytes) = match checked {
            Ok(checked) => checked,
            Err(error) => return Ok(Some(Err(error))),
        };
        let may_chain = may_chain(data);
        let now = self.shared.now();
        let quick = in_callers_transaction(self, conn, |conn| {
            finish_unless_chaining(conn, attempt.id, now, bytes.as_deref(), may_chain)
        })?;
        Ok(attempt.answer(quick))
    }

    /// Runs the checked entries in one transaction; see the module docs.
    /// Entries refused by their checks keep their error and take no part.
    fn apply(&self, entries: Vec<Result<Entry>>) -> Result<Vec<Result<()>>> {
        self.apply_by(entries, |ids, checked| {
            with_retry(self, Isolation::RepeatableRead, |conn| {
                self.apply_locked(conn, ids, checked)
            })
        })
    }

    /// Runs the checked entries with `run` (given their sorted attempt
    /// ids), then answers every entry: its refusal, or what `run` said.
    fn apply_by(
        &self,
        entries: Vec<Result<Entry>>,
        run: impl FnOnce(&[i32], &[Option<Entry>]) -> Result<Vec<Result<()>>>,
    ) -> Result<Vec<Result<()>>> {
        let (checked, mut refused): (Vec<Option<Entry>>, Vec<Option<Error>>) = entries
            .into_iter()
            .map(|entry| match entry {
                Ok(entry) => (Some(entry), None),
                Err(error) => (None, Some(error)),
            })
            .unzip();
        let mut ids: Vec<i32> = checked.iter().flatten().map(|e| e.id).collect();
        ids.sort_unstable();
        ids.dedup();
        let answers = if ids.is_empty() {
            checked.iter().map(|_| Ok(())).collect()
        } else {
            run(&ids, &checked)?
        };
        Ok(answers
            .into_iter()
            .zip(refused.iter_mut())
            .map(|(answer, refusal)| match refusal.take() {
                Some(error) => Err(error),
                None => answer,
            })
            .collect())
    }

    /// The transaction of [`PgNamespace::apply`]; `None` entries were
    /// refused before it and are answered `Ok` here, then replaced.
    fn apply_locked(
        &self,
        conn: &mut PgConnection,
        ids: &[i32],
        checked: &[Option<Entry>],
    ) -> TxResult<Vec<Result<()>>> {
        let now = self.shared.now();
        let locked: Vec<Locked> = LOCK_BATCH
            .prepare()
            .bind::<Array<Integer>, _>(ids)
            .load(conn)?;
        let mut state: BTreeMap<i32, Working> = locked
            .into_iter()
            .map(|row| {
                (
                    row.id,
                    Working {
                        unit: row.work_unit_id,
                        spec: row.work_spec_id,
                        unit_name: row.unit_name,
                        status: row.status.0,
                        active: row.active,
                        data: row.data,
                        new_data: None,
                        end: row.end_time,
                        on_worker_list: row.listed,
                        expiration: row.expiration_time,
                        next_spec: row.next_spec,
                        changed: false,
                    },
                )
            })
            .collect();
        let mut units = BTreeMap::new();
        let mut chained: BTreeMap<i32, Vec<NewWorkUnit>> = BTreeMap::new();
        let answers = checked
            .iter()
            .map(|entry| {
                let Some(entry) = entry else { return Ok(()) };
                let working = state
                    .get_mut(&entry.id)
                    .ok_or_else(|| Error::gone(ObjectKind::Attempt, &*entry.unit_name))?;
                let before = chained.values().map(Vec::len).sum::<usize>();
                let answer = step(working, entry, now, &mut units, &mut chained);
                // Units this entry chained replace units of the same name,
                // which lose their active attempt (as `add_work_unit` does).
                if chained.values().map(Vec::len).sum::<usize>() != before {
                    for working in state.values_mut() {
                        let replaced = chained.get(&working.spec).is_some_and(|made| {
                            made.iter().any(|u| u.name.as_bytes() == working.unit_name)
                        });
                        if replaced {
                            working.active = false;
                        }
                    }
                }
                answer
            })
            .collect::<Vec<_>>();
        write(conn, &state, &units)?;
        if checked
            .iter()
            .flatten()
            .any(|entry| entry.call == Call::Expire)
        {
            announce_taken(conn, self.id)?;
        }
        for (spec, new_units) in chained {
            // Two entries may chain a unit of the same name: the later
            // one wins, as one by one. Outputs come from data already
            // within the size limit.
            let new_units = validate_work_unit_batch(new_units, |_| Ok(()))?;
            upsert_units(conn, spec, &new_units, usize::MAX)?;
        }
        Ok(answers)
    }
}

/// Applies one entry to its attempt's working state.
fn step(
    working: &mut Working,
    entry: &Entry,
    now: DateTime<Utc>,
    units: &mut BTreeMap<i32, (Option<i32>, Option<DateTime<Utc>>)>,
    chained: &mut BTreeMap<i32, Vec<NewWorkUnit>>,
) -> Result<()> {
    let effect = decide(entry.call, working.status, working.active)
        .ok_or_else(|| Error::not_pending(&*entry.spec_name, &*entry.unit_name))?;
    let request = Request::at(entry.call, entry.span, now)?;
    let not_before = request.not_before().filter(|_| effect.delay_unit);
    if effect.change != Change::Nothing {
        if let Some(data) = &entry.data {
            working.data.clone_from(data);
            working.new_data = Some(data.clone());
        }
    }
    match effect.change {
        Change::Nothing | Change::DataOnly => {}
        Change::Extend => {
            working.status = AttemptStatus::Pending;
            working.end = None;
            working.on_worker_list = true;
            if let Some(lease_end) = request.lease_end() {
                working.expiration = lease_end;
            }
        }
        Change::End(status) => {
            working.status = status;
            working.end = Some(now);
            working.on_worker_list = false;
        }
    }
    working.changed |= effect.change != Change::Nothing;
    if effect.release && working.active {
        working.active = false;
        let unit = units.entry(working.unit).or_default();
        unit.0 = Some(entry.id);
        if not_before.is_some() {
            unit.1 = not_before;
        }
    } else if let Some(not_before) = not_before {
        units.entry(working.unit).or_default().1 = Some(not_before);
    }
    if effect.chain {
        if let Some(next) = working.next_spec {
            let data = decode(&working.data)?;
            if let Some(output) = data.get("output") {
                chained
                    .entry(next)
                    .or_default()
                    .extend(extract_output(output, now));
            }
        }
    }
    effect.outcome(&entry.spec_name, &entry.unit_name)
}

/// Writes the changed attempts and units: two statements.
fn write(
    conn: &mut PgConnection,
    state: &BTreeMap<i32, Working>,
    units: &BTreeMap<i32, (Option<i32>, Option<DateTime<Utc>>)>,
) -> TxResult<()> {
    let changed: Vec<(&i32, &Working)> = state.iter().filter(|(_, w)| w.changed).collect();
    if !changed.is_empty() {
        let ids: Vec<i32> = changed.iter().map(|(id, _)| **id).collect();
        let statuses: Vec<&str> = changed.iter().map(|(_, w)| w.status.as_str()).collect();
        let ends: Vec<Option<DateTime<Utc>>> = changed.iter().map(|(_, w)| w.end).collect();
        let listed: Vec<bool> = changed.iter().map(|(_, w)| w.on_worker_list).collect();
        let data: Vec<Option<&[u8]>> = changed.iter().map(|(_, w)| w.new_data.as_deref()).collect();
        let expirations: Vec<DateTime<Utc>> = changed.iter().map(|(_, w)| w.expiration).collect();
        END_BATCH
            .prepare()
            .bind::<Array<Integer>, _>(&ids)
            .bind::<Array<Text>, _>(&statuses)
            .bind::<Array<Nullable<Timestamptz>>, _>(&ends)
            .bind::<Array<Bool>, _>(&listed)
            .bind::<Array<Nullable<Bytea>>, _>(&data)
            .bind::<Array<Timestamptz>, _>(&expirations)
            .execute(conn)?;
    }
    if !units.is_empty() {
        let ids: Vec<i32> = units.keys().copied().collect();
        let released: Vec<Option<i32>> = units.values().map(|u| u.0).collect();
        let not_before: Vec<Option<DateTime<Utc>>> = units.values().map(|u| u.1).collect();
        RELEASE_BATCH
            .prepare()
            .bind::<Array<Integer>, _>(&ids)
            .bind::<Array<Nullable<Integer>>, _>(&released)
            .bind::<Array<Nullable<Timestamptz>>, _>(&not_before)
            .execute(conn)?;
    }
    Ok(())
}
