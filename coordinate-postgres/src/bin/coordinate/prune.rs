//! `prune`: history retention. Removes finished and failed units whose
//! last attempt ended before a cutoff, with their attempts, and dead
//! workers, in calls of `--batch` records, with progress between them.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::Args;
use coordinate_api::{PruneRequest, Pruned};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use crate::output::{confirm, print_json};
use crate::{connect, Global};

#[derive(Args)]
pub struct PruneArgs {
    /// Remove finished units whose last attempt ended longer ago than this
    /// (`90s`, `30m`, `12h`, `7d`).
    #[arg(long, value_parser = parse_age)]
    finished_before: Option<Duration>,
    /// Remove failed units whose last attempt ended longer ago than this.
    #[arg(long, value_parser = parse_age)]
    failed_before: Option<Duration>,
    /// Remove inactive workers, with no attempts left, whose last report
    /// expired longer ago than this.
    #[arg(long, value_parser = parse_age)]
    workers_expired_before: Option<Duration>,
    /// Only units of this work spec (repeat for several; all if none).
    #[arg(long = "spec")]
    specs: Vec<String>,
    /// Records removed per call; each call is a few short transactions.
    #[arg(long, default_value_t = coordinate_api::retention::DEFAULT_PRUNE_LIMIT)]
    batch: usize,
    /// A pause between calls, in milliseconds, to leave room for claims.
    #[arg(long, default_value_t = 0)]
    pause_ms: u64,
    /// Count what would go, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not ask.
    #[arg(long, short = 'y')]
    yes: bool,
}

/// `90s`, `30m`, `12h` or `7d`.
fn parse_age(text: &str) -> std::result::Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?}: give a unit, as in 7d, 12h, 30m or 90s"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a whole number before the unit"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is one of s, m, h, d")),
    };
    number
        .checked_mul(seconds)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long ago"))
}

fn cutoff(now: DateTime<Utc>, age: Option<Duration>) -> Result<Option<DateTime<Utc>>> {
    age.map(|age| {
        chrono::Duration::from_std(age)
            .ok()
            .and_then(|age| now.checked_sub_signed(age))
            .context("the age reaches before any representable time")
    })
    .transpose()
}

pub fn prune(global: &Global, args: &PruneArgs) -> Result<()> {
    let coordinate = connect::coordinate(global)?;
    let namespace = connect::namespace(coordinate.as_ref(), global)?;
    let now = Utc::now();
    let mut request = PruneRequest::default().limit(args.batch);
    request.finished_before = cutoff(now, args.finished_before)?;
    request.failed_before = cutoff(now, args.failed_before)?;
    request.workers_expired_before = cutoff(now, args.workers_expired_before)?;
    if !args.specs.is_empty() {
        request = request.work_specs(args.specs.iter().cloned());
    }
    if request.finished_before.is_none()
        && request.failed_before.is_none()
        && request.workers_expired_before.is_none()
    {
        bail!(crate::UsageError(
            "say what to prune: --finished-before, --failed-before or --workers-expired-before"
                .into()
        ));
    }
    // The whole count (no limit), which also checks the request.
    let mut counting = request.clone();
    counting.limit = usize::MAX;
    let would = namespace.count_prunable(&counting)?;
    if args.dry_run || would.total() == 0 {
        return report(
            global,
            if args.dry_run {
                "would prune"
            } else {
                "pruned"
            },
            would,
        );
    }
    let question = format!(
        "prune {} work unit(s) with their attempts and {} worker(s) of namespace {:?}?",
        would.work_units,
        would.workers,
        namespace.name()
    );
    if !confirm(args.yes, &question)? {
        bail!("nothing pruned");
    }
    let progress = if std::io::stderr().is_terminal() && !global.json {
        ProgressBar::with_draw_target(Some(would.total() as u64), ProgressDrawTarget::stderr())
            .with_style(ProgressStyle::with_template(
                "pruning [{bar:40}] {pos}/{len}",
            )?)
    } else {
        ProgressBar::hidden()
    };
    let mut done = Pruned::default();
    loop {
        let step = namespace.prune(&request)?;
        done += step;
        progress.set_position(done.total() as u64);
        if step.total() == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(args.pause_ms));
    }
    progress.finish_and_clear();
    report(global, "pruned", done)
}

fn report(global: &Global, verb: &str, counts: Pruned) -> Result<()> {
    if global.json {
        return print_json(&json!({
            "dry_run": verb == "would prune",
            "work_units": counts.work_units,
            "workers": counts.workers,
        }));
    }
    println!(
        "{verb} {} work unit(s) and {} worker(s)",
        counts.work_units, counts.workers
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_every_unit_and_refuse_the_rest() {
        assert_eq!(parse_age("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_age("7").unwrap_err().contains("give a unit"));
        assert!(parse_age("7w").unwrap_err().contains("one of s, m, h, d"));
        assert!(parse_age("d").unwrap_err().contains("whole number"));
        assert!(parse_age("99999999999999999999d").is_err());
    }
}
