//! `--reps N`: the claim and runtime rows measured N times, interleaved
//! (every row of one repetition before any of the next), and reported as
//! the median of the N.
//!
//! Ratios between rows of one run move by a quarter or more from run to
//! run on a small machine, so a target is judged on the median of its
//! ratio over the repetitions, each ratio taken within one repetition:
//! the machine's mood of the moment cancels within a repetition, and the
//! median drops the odd one out.

use crate::report::{Row, Verdict};

/// Rows of several repetitions of the same measurements, each already
/// evaluated against the other rows of its own repetition (see
/// `targets::evaluate`), folded into one row per key: the repetition
/// whose rate is the median, its `vs_reference` and every target replaced
/// by their medians over the repetitions, and the rates of all of them
/// said in `what`.
pub fn median(repetitions: &[Vec<Row>]) -> Vec<Row> {
    let Some(first) = repetitions.first() else {
        return Vec::new();
    };
    first
        .iter()
        .map(|row| {
            let same: Vec<&Row> = repetitions
                .iter()
                .filter_map(|rep| rep.iter().find(|r| r.key == row.key))
                .collect();
            fold(&same)
        })
        .collect()
}

/// One key's rows, one per repetition, as one row.
fn fold(same: &[&Row]) -> Row {
    let mut by_rate = same.to_vec();
    by_rate.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let mut folded = (*middle(&by_rate)).clone();
    let mut references: Vec<f64> = same.iter().filter_map(|r| r.vs_reference).collect();
    references.sort_by(f64::total_cmp);
    folded.vs_reference = (!references.is_empty()).then(|| *middle(&references));
    folded.targets = folded
        .targets
        .iter()
        .map(|target| median_verdict(same, &target.wanted))
        .collect();
    let rates: Vec<String> = same.iter().map(|r| format!("{:.0}", r.rate())).collect();
    folded.what.push_str(&format!(
        "; median of {} reps (units/s {})",
        same.len(),
        rates.join(", ")
    ));
    folded
}

/// The verdict on target `wanted` whose measured value is the median over
/// the repetitions: for a threshold, the median's verdict is the verdict
/// on the median, whichever way the threshold points.
fn median_verdict(same: &[&Row], wanted: &str) -> Verdict {
    let mut verdicts: Vec<&Verdict> = same
        .iter()
        .filter_map(|r| r.targets.iter().find(|t| t.wanted == wanted))
        .collect();
    verdicts.sort_by(|a, b| a.measured.total_cmp(&b.measured));
    let chosen = middle(&verdicts);
    let got: Vec<&str> = verdicts.iter().map(|t| t.got.as_str()).collect();
    Verdict {
        got: format!("{} (of {})", chosen.got, got.join(", ")),
        ..(*chosen).clone()
    }
}

/// The middle element (the lower of the two middles for an even count).
fn middle<T>(sorted: &[T]) -> &T {
    &sorted[(sorted.len() - 1) / 2]
}
