//! Choosing which work spec a worker gets work from, and how much.
//!
//! Backends gather each work spec's [`WorkSpecMeta`] with counts, then call
//! [`choose_work_spec`]. Only specs of the highest priority that can do work
//! are considered; among them one is drawn at random so that, over time,
//! pending counts approach the ratio of the weights.

use chrono::{DateTime, Utc};
use rand::{Rng, RngCore};

use crate::data::{Data, Value};
use crate::meta::WorkSpecMeta;
use crate::query::AttemptRequest;

/// Whether a continuous work spec may create a new unit now: it is
/// continuous, has nothing available or pending, and its interval passed.
pub fn can_start_continuous(meta: &WorkSpecMeta, now: DateTime<Utc>) -> bool {
    meta.continuous
        && meta.available_count == 0
        && meta.pending_count == 0
        && meta.next_continuous.is_none_or(|next| now >= next)
}

/// Whether a work spec can hand out work now: not paused, positive weight,
/// below `max_running`, and with an available unit or a continuous start.
pub fn can_do_work(meta: &WorkSpecMeta, now: DateTime<Utc>) -> bool {
    if meta.paused || meta.weight <= 0 {
        return false;
    }
    if meta.max_running > 0 && meta.pending_count >= meta.max_running as usize {
        return false;
    }
    meta.available_count > 0 || can_start_continuous(meta, now)
}

/// Whether the request's `work_specs` and `runtimes` filters admit a spec.
pub fn request_admits(request: &AttemptRequest, name: &str, meta: &WorkSpecMeta) -> bool {
    (request.work_specs.is_empty() || request.work_specs.iter().any(|n| n == name))
        && (request.runtimes.is_empty() || request.runtimes.contains(&meta.runtime))
}

/// A work spec as [`choose_work_spec`] sees it: its name and its metadata
/// with counts. Backends implement it for their own candidate rows, so
/// nothing is copied to make a choice.
pub trait Candidate {
    /// The work spec's name.
    fn name(&self) -> &str;
    /// The work spec's metadata, with available and pending counts.
    fn meta(&self) -> &WorkSpecMeta;
}

impl<S: AsRef<str>> Candidate for (S, WorkSpecMeta) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }

    fn meta(&self) -> &WorkSpecMeta {
        &self.1
    }
}

/// Picks the work spec to take work from and returns its index in
/// `specs`, or `None` when no spec can do work.
///
/// The draw uses `rng`, so tests can pass a seeded generator.
pub fn choose_work_spec<C: Candidate>(
    specs: &[C],
    request: &AttemptRequest,
    now: DateTime<Utc>,
    rng: &mut dyn RngCore,
) -> Option<usize> {
    let mut candidates: Vec<(usize, &str, &WorkSpecMeta)> = specs
        .iter()
        .enumerate()
        .map(|(index, spec)| (index, spec.name(), spec.meta()))
        .filter(|(_, name, meta)| request_admits(request, name, meta) && can_do_work(meta, now))
        .collect();
    let top = candidates.iter().map(|(_, _, meta)| meta.priority).max()?;
    candidates.retain(|(_, _, meta)| meta.priority == top);
    if let [(only, _, _)] = candidates[..] {
        // No draw needed; the common case of one spec per request.
        return Some(only);
    }
    // A stable order makes the draw reproducible for a given generator.
    candidates.sort_by(|a, b| a.1.cmp(b.1));

    let total_weight: i64 = candidates.iter().map(|(_, _, m)| i64::from(m.weight)).sum();
    let total_pending: i64 = candidates
        .iter()
        .map(|(_, _, m)| m.pending_count as i64)
        .sum();
    let scores: Vec<i64> = candidates
        .iter()
        .map(|(_, _, m)| {
            let score =
                i64::from(m.weight) * (total_pending + 1) - total_weight * m.pending_count as i64;
            score.max(0)
        })
        .collect();
    let total_score: i64 = scores.iter().sum();
    if total_score <= 0 {
        // Every candidate is over its share (possible only with rounding at
        // extreme counts); any of them is a fair choice.
        return candidates.first().map(|(index, _, _)| *index);
    }
    let mut draw = rng.random_range(0..total_score);
    for (candidate, score) in candidates.iter().zip(&scores) {
        if draw < *score {
            return Some(candidate.0);
        }
        draw -= score;
    }
    unreachable!("the draw is below the sum of the scores")
}

/// How many units to hand out from the chosen spec:
/// min(requested, max attempts returned, max running − pending), at least 1
/// requested.
pub fn batch_size(meta: &WorkSpecMeta, requested: usize) -> usize {
    let mut count = requested.max(1);
    if meta.max_attempts_returned > 0 {
        count = count.min(meta.max_attempts_returned as usize);
    }
    if meta.max_running > 0 {
        count = count.min((meta.max_running as usize).saturating_sub(meta.pending_count));
    }
    count
}

/// Whether a unit that already had `previous_attempts` attempts has used up
/// its retries and must be failed instead of handed out.
pub fn retries_exhausted(meta: &WorkSpecMeta, previous_attempts: usize) -> bool {
    meta.max_retries > 0 && previous_attempts >= meta.max_retries as usize
}

/// The `traceback` text recorded on a unit failed by [`retries_exhausted`].
pub const TOO_MANY_RETRIES: &str = "too many retries";

/// The data of the failed attempt given to a unit that used up its
/// retries: `{"traceback": "too many retries"}`.
pub fn too_many_retries_data() -> Data {
    let mut data = Data::new();
    data.insert("traceback".into(), Value::Text(TOO_MANY_RETRIES.into()));
    data
}

/// Most rounds one request for work takes before it gives up and returns
/// nothing. A round that hands out nothing has failed units that used up
/// their retries, or lost a race for the last units; either way the next
/// round sees a different store, but a request must not loop forever.
pub const MAX_CLAIM_ROUNDS: usize = 100;

/// What one round of a request for work came to.
#[derive(Debug)]
pub enum Round<T> {
    /// The request is answered (with work, or with none to be had).
    Done(T),
    /// Nothing was handed out, but another round may find work.
    Again,
}

/// Runs claim rounds until one is [`Round::Done`], at most
/// [`MAX_CLAIM_ROUNDS`] times; `None` when every round said
/// [`Round::Again`]. Both backends' `request_attempts` loop through here.
pub fn claim_rounds<T, E>(
    mut round: impl FnMut() -> std::result::Result<Round<T>, E>,
) -> std::result::Result<Option<T>, E> {
    for _ in 0..MAX_CLAIM_ROUNDS {
        if let Round::Done(answer) = round()? {
            return Ok(Some(answer));
        }
    }
    Ok(None)
}

/// Name of a unit created by a continuous work spec: the Unix time as
/// `seconds.millis`.
pub fn continuous_unit_name(now: DateTime<Utc>) -> String {
    format!("{}.{:03}", now.timestamp(), now.timestamp_subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rand::SeedableRng;
    use std::collections::BTreeMap;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()
    }

    fn meta(priority: i32, weight: i32, available: usize, pending: usize) -> WorkSpecMeta {
        WorkSpecMeta {
            priority,
            weight,
            available_count: available,
            pending_count: pending,
            ..WorkSpecMeta::default()
        }
    }

    fn choose(specs: &[(String, WorkSpecMeta)], request: &AttemptRequest) -> Option<String> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        choose_work_spec(specs, request, now(), &mut rng).map(|i| specs[i].0.clone())
    }

    fn specs(list: &[(&str, WorkSpecMeta)]) -> Vec<(String, WorkSpecMeta)> {
        list.iter()
            .map(|(n, m)| (n.to_string(), m.clone()))
            .collect()
    }

    #[test]
    fn nothing_to_do() {
        let req = AttemptRequest::default();
        assert_eq!(choose(&[], &req), None);
        assert_eq!(choose(&specs(&[("a", meta(0, 20, 0, 3))]), &req), None);
    }

    #[test]
    fn paused_zero_weight_and_full_specs_are_skipped() {
        let req = AttemptRequest::default();
        let mut paused = meta(0, 20, 1, 0);
        paused.paused = true;
        assert_eq!(choose(&specs(&[("a", paused)]), &req), None);
        assert_eq!(choose(&specs(&[("a", meta(0, 0, 1, 0))]), &req), None);
        let mut full = meta(0, 20, 1, 2);
        full.max_running = 2;
        assert_eq!(choose(&specs(&[("a", full.clone())]), &req), None);
        full.max_running = 3;
        assert_eq!(choose(&specs(&[("a", full)]), &req).as_deref(), Some("a"));
    }

    #[test]
    fn highest_priority_wins() {
        let req = AttemptRequest::default();
        let list = specs(&[
            ("low", meta(0, 1000, 5, 0)),
            ("high", meta(5, 1, 1, 0)),
            ("empty", meta(9, 20, 0, 0)),
        ]);
        for seed in 0..50 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            assert_eq!(choose_work_spec(&list, &req, now(), &mut rng), Some(1));
        }
    }

    #[test]
    fn filters_by_name_and_runtime() {
        let mut go = meta(0, 20, 1, 0);
        go.runtime = "go".into();
        let list = specs(&[("a", meta(0, 20, 1, 0)), ("b", go)]);
        let by_name = AttemptRequest {
            work_specs: vec!["a".into()],
            ..AttemptRequest::default()
        };
        assert_eq!(choose(&list, &by_name).as_deref(), Some("a"));
        let by_runtime = AttemptRequest {
            runtimes: vec!["go".into()],
            ..AttemptRequest::default()
        };
        assert_eq!(choose(&list, &by_runtime).as_deref(), Some("b"));
        let nothing = AttemptRequest {
            work_specs: vec!["missing".into()],
            ..AttemptRequest::default()
        };
        assert_eq!(choose(&list, &nothing), None);
    }

    #[test]
    fn continuous_specs_start_when_idle_and_interval_passed() {
        let mut m = meta(0, 20, 0, 0);
        m.continuous = true;
        assert!(can_start_continuous(&m, now()));
        m.next_continuous = Some(now() + chrono::Duration::seconds(1));
        assert!(!can_start_continuous(&m, now()));
        m.next_continuous = Some(now());
        assert!(can_start_continuous(&m, now()));
        m.pending_count = 1;
        assert!(!can_start_continuous(&m, now()));
        assert!(!can_do_work(&m, now()));
    }

    #[test]
    fn draws_track_the_weights() {
        // With nothing pending, the chance of each spec is its weight share.
        let list = specs(&[("a", meta(0, 1, 1, 0)), ("b", meta(0, 3, 1, 0))]);
        let req = AttemptRequest::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for _ in 0..40_000 {
            let chosen = choose_work_spec(&list, &req, now(), &mut rng).unwrap();
            *counts.entry(list[chosen].0.as_str()).or_default() += 1;
        }
        let share_b = counts["b"] as f64 / 40_000.0;
        assert!((share_b - 0.75).abs() < 0.02, "b got {share_b}");
    }

    #[test]
    fn pending_counts_move_toward_the_weights() {
        // Simulate workers claiming one unit at a time and never finishing.
        let mut list = specs(&[("a", meta(0, 1, 1_000, 0)), ("b", meta(0, 2, 1_000, 0))]);
        let req = AttemptRequest::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..300 {
            let chosen = choose_work_spec(&list, &req, now(), &mut rng).unwrap();
            list[chosen].1.pending_count += 1;
        }
        let (a, b) = (list[0].1.pending_count, list[1].1.pending_count);
        assert!((90..=110).contains(&a), "a={a} b={b}");
        assert_eq!(a + b, 300);
    }

    #[test]
    fn an_overloaded_spec_is_not_chosen() {
        // b already has far more than its share pending: its score is 0.
        let list = specs(&[("a", meta(0, 1, 1, 0)), ("b", meta(0, 1, 1, 10))]);
        for seed in 0..50 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            assert_eq!(
                choose_work_spec(&list, &AttemptRequest::default(), now(), &mut rng),
                Some(0)
            );
        }
    }

    #[test]
    fn batch_size_respects_every_limit() {
        let mut m = meta(0, 20, 100, 0);
        assert_eq!(batch_size(&m, 0), 1);
        assert_eq!(batch_size(&m, 10), 10);
        m.max_attempts_returned = 4;
        assert_eq!(batch_size(&m, 10), 4);
        m.max_running = 5;
        m.pending_count = 3;
        assert_eq!(batch_size(&m, 10), 2);
    }

    #[test]
    fn retries() {
        let mut m = meta(0, 20, 1, 0);
        assert!(!retries_exhausted(&m, 1_000));
        m.max_retries = 2;
        assert!(!retries_exhausted(&m, 1));
        assert!(retries_exhausted(&m, 2));
    }

    #[test]
    fn the_index_points_into_the_callers_slice_in_any_order() {
        // The draw sorts by name; the index must still be the caller's.
        let list = specs(&[("z", meta(0, 20, 1, 0)), ("a", meta(0, 20, 0, 0))]);
        assert_eq!(
            choose(&list, &AttemptRequest::default()).as_deref(),
            Some("z")
        );
        let list = specs(&[("b", meta(0, 1, 1, 10)), ("a", meta(0, 1, 1, 0))]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        assert_eq!(
            choose_work_spec(&list, &AttemptRequest::default(), now(), &mut rng),
            Some(1)
        );
    }

    #[test]
    fn retries_data_names_the_reason() {
        let data = too_many_retries_data();
        assert_eq!(data.len(), 1);
        assert_eq!(
            data.get("traceback"),
            Some(&Value::Text(TOO_MANY_RETRIES.into()))
        );
    }

    #[test]
    fn claim_rounds_stop_at_an_answer_or_at_the_bound() {
        let mut calls = 0;
        let answer: std::result::Result<_, ()> = claim_rounds(|| {
            calls += 1;
            Ok(if calls == 3 {
                Round::Done(calls)
            } else {
                Round::Again
            })
        });
        assert_eq!((answer, calls), (Ok(Some(3)), 3));
        let mut calls = 0;
        let answer: std::result::Result<Option<()>, ()> = claim_rounds(|| {
            calls += 1;
            Ok(Round::Again)
        });
        assert_eq!((answer, calls), (Ok(None), MAX_CLAIM_ROUNDS));
        let mut calls = 0;
        let answer: std::result::Result<Option<()>, &str> = claim_rounds(|| {
            calls += 1;
            Err("broken")
        });
        assert_eq!(
            (answer, calls),
            (Err("broken"), 1),
            "an error ends the loop"
        );
    }

    #[test]
    fn continuous_names_are_unix_time_with_millis() {
        let t = now() + chrono::Duration::milliseconds(5);
        assert_eq!(continuous_unit_name(t), "1577836800.005");
    }
}
