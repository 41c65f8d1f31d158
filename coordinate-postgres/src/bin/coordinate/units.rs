//! `units`, `unit`, `retry`, `prioritize` and `delete`: looking at and
//! changing the units of one work spec.

use std::collections::BTreeSet;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use coordinate_api::operate::retry_failed_units;
use coordinate_api::{Data, Value, WorkSpec, WorkUnit, WorkUnitQuery, WorkUnitStatus};
use serde_json::{json, Value as Json};

use crate::connect;
use crate::json::data_to_json;
use crate::output::{
    confirm, json_maybe_time, json_time, maybe_time, number, print_json, time, Table,
};
use crate::Global;

/// A unit status as the command line spells it.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Status {
    /// Ready to be handed out.
    Available,
    /// A worker holds it.
    Pending,
    /// Waiting for its not-before time.
    Delayed,
    /// Done.
    Finished,
    /// Given up on.
    Failed,
}

impl From<Status> for WorkUnitStatus {
    fn from(status: Status) -> WorkUnitStatus {
        match status {
            Status::Available => WorkUnitStatus::Available,
            Status::Pending => WorkUnitStatus::Pending,
            Status::Delayed => WorkUnitStatus::Delayed,
            Status::Finished => WorkUnitStatus::Finished,
            Status::Failed => WorkUnitStatus::Failed,
        }
    }
}

/// Arguments of `units`.
#[derive(Args)]
pub struct UnitsArgs {
    /// The work spec.
    spec: String,
    /// Only units in this status (repeat for several).
    #[arg(long, value_enum)]
    status: Vec<Status>,
    /// At most this many units, in name order (0: all).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
}

/// Arguments of `retry`.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["names", "failed"]))]
pub struct RetryArgs {
    /// The work spec.
    spec: String,
    /// The failed units to retry.
    names: Vec<String>,
    /// Retry every failed unit of the spec.
    #[arg(long)]
    failed: bool,
}

/// Arguments of `prioritize`.
#[derive(Args)]
pub struct PrioritizeArgs {
    /// The work spec.
    spec: String,
    /// The units.
    #[arg(required = true)]
    names: Vec<String>,
    /// The new priority (higher goes first).
    #[arg(long, allow_negative_numbers = true)]
    priority: f64,
}

/// Arguments of `delete`.
#[derive(Args)]
pub struct DeleteArgs {
    /// The work spec.
    spec: String,
    /// Only these units (all units of the spec if none and no --status).
    names: Vec<String>,
    /// Only units in this status (repeat for several).
    #[arg(long, value_enum)]
    status: Vec<Status>,
    /// Do not ask.
    #[arg(long, short = 'y')]
    yes: bool,
}

fn statuses(statuses: &[Status]) -> Vec<WorkUnitStatus> {
    statuses.iter().copied().map(Into::into).collect()
}

pub fn list(global: &Global, args: &UnitsArgs) -> Result<()> {
    let (_, spec) = connect::work_spec(global, &args.spec)?;
    let query = WorkUnitQuery {
        statuses: statuses(&args.status),
        limit: (args.limit > 0).then_some(args.limit),
        ..WorkUnitQuery::default()
    };
    let units = spec.work_units(&query)?;
    let mut rows = Vec::new();
    for unit in &units {
        let status = match args.status.as_slice() {
            [only] => (*only).into(),
            _ => unit.status()?,
        };
        rows.push((
            unit.name().to_owned(),
            status,
            unit.priority()?,
            unit.num_attempts()?,
        ));
    }
    if global.json {
        let rows: Vec<Json> = rows
            .iter()
            .map(|(name, status, priority, attempts)| {
                json!({"name": name, "status": status.as_str(), "priority": priority, "attempts": attempts})
            })
            .collect();
        return print_json(&Json::Array(rows));
    }
    let mut table = Table::new(&["NAME", "STATUS", ">PRIORITY", ">ATTEMPTS"]);
    for (name, status, priority, attempts) in rows {
        table.row(vec![
            name,
            status.to_string(),
            number(priority),
            attempts.to_string(),
        ]);
    }
    table.print();
    if args.limit > 0 && units.len() == args.limit {
        eprintln!("(the first {} units; --limit 0 lists all)", args.limit);
    }
    Ok(())
}

pub fn show(global: &Global, spec_name: &str, name: &str) -> Result<()> {
    let (_, spec) = connect::work_spec(global, spec_name)?;
    let unit = spec.work_unit(name)?;
    let meta = unit.meta()?;
    let status = unit.status()?;
    let data = unit.data()?;
    let mut attempts = Vec::new();
    for attempt in unit.attempts()? {
        attempts.push((
            attempt.worker().name().to_owned(),
            attempt.status()?,
            attempt.start_time()?,
            attempt.end_time()?,
            attempt.expiration_time()?,
            attempt.data()?,
        ));
    }
    if global.json {
        let attempts: Vec<Json> = attempts
            .iter()
            .map(|(worker, status, start, end, expiration, data)| {
                json!({
                    "worker": worker,
                    "status": status.as_str(),
                    "start_time": json_time(*start),
                    "end_time": json_maybe_time(*end),
                    "expiration_time": json_time(*expiration),
                    "data": data_to_json(data),
                })
            })
            .collect();
        return print_json(&json!({
            "name": name,
            "work_spec": spec_name,
            "status": status.as_str(),
            "priority": meta.priority,
            "not_before": json_maybe_time(meta.not_before),
            "data": data_to_json(&data),
            "attempts": attempts,
        }));
    }
    println!("unit {name:?} of work spec {spec_name:?}: {status}");
    println!(
        "priority {}, not before {}",
        number(meta.priority),
        maybe_time(meta.not_before)
    );
    println!(
        "data:\n{}",
        serde_json::to_string_pretty(&data_to_json(&data))?
    );
    if attempts.is_empty() {
        println!("\nno attempts");
        return Ok(());
    }
    println!();
    let mut table = Table::new(&[">#", "WORKER", "STATUS", "STARTED", "ENDED", "EXPIRES"]);
    for (i, (worker, status, start, end, expiration, _)) in attempts.iter().enumerate() {
        table.row(vec![
            (i + 1).to_string(),
            worker.clone(),
            status.to_string(),
            time(*start),
            maybe_time(*end),
            time(*expiration),
        ]);
    }
    table.print();
    for (i, (.., data)) in attempts.iter().enumerate() {
        if let Some(traceback) = traceback(data) {
            println!("\nattempt {} traceback:\n{}", i + 1, traceback.trim_end());
        }
    }
    Ok(())
}

/// The `traceback` a failed attempt's data carries (go-coordinate's and
/// the runtime's key for the reason), as text.
fn traceback(data: &Data) -> Option<String> {
    match data.get("traceback")? {
        Value::Text(text) => Some(text.clone()),
        Value::Bytes(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        other => Some(crate::json::to_json(other).to_string()),
    }
}

/// The units named, each of which must exist: one error names every
/// missing one, before anything changes.
pub(crate) fn named_units(
    spec: &dyn WorkSpec,
    names: &[String],
) -> Result<Vec<std::sync::Arc<dyn WorkUnit>>> {
    let units = spec.work_units(&WorkUnitQuery::names(names.iter().cloned()))?;
    let found: BTreeSet<&str> = units.iter().map(|u| u.name()).collect();
    let missing: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !found.contains(n))
        .collect();
    if !missing.is_empty() {
        bail!(
            "work spec {:?} has no unit {}; nothing changed",
            spec.name(),
            quoted(&missing)
        );
    }
    Ok(units)
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Failed units become available again (`coordinate_api::operate`'s
/// rule, which the dashboard follows too).
pub fn retry(global: &Global, args: &RetryArgs) -> Result<()> {
    let (_, spec) = connect::work_spec(global, &args.spec)?;
    let names = (!args.failed).then_some(args.names.as_slice());
    let retried = retry_failed_units(spec.as_ref(), names)?;
    report(global, "retried", retried, &args.spec)
}

pub fn prioritize(global: &Global, args: &PrioritizeArgs) -> Result<()> {
    if !args.priority.is_finite() {
        bail!(crate::UsageError(format!(
            "--priority {} is not a finite number",
            args.priority
        )));
    }
    let (_, spec) = connect::work_spec(global, &args.spec)?;
    let units = named_units(spec.as_ref(), &args.names)?;
    spec.set_work_unit_priorities(
        &WorkUnitQuery::names(args.names.iter().cloned()),
        args.priority,
    )?;
    report(global, "reprioritized", units.len(), &args.spec)
}

pub fn delete(global: &Global, args: &DeleteArgs) -> Result<()> {
    let (namespace, spec) = connect::work_spec(global, &args.spec)?;
    if !args.names.is_empty() {
        named_units(spec.as_ref(), &args.names)?;
    }
    let query = WorkUnitQuery {
        names: args.names.clone(),
        statuses: statuses(&args.status),
        ..WorkUnitQuery::default()
    };
    let matching = spec.work_units(&query)?.len();
    if matching == 0 {
        return report(global, "deleted", 0, &args.spec);
    }
    let question = format!(
        "delete {matching} unit(s) of work spec {:?} in namespace {:?}, with their attempts?",
        args.spec,
        namespace.name()
    );
    if !confirm(args.yes, &question)? {
        bail!("nothing deleted");
    }
    let deleted = spec.delete_work_units(&query)?;
    report(global, "deleted", deleted, &args.spec)
}

/// One line (or JSON object) saying how many units a verb changed.
fn report(global: &Global, verb: &str, count: usize, spec: &str) -> Result<()> {
    if global.json {
        return print_json(&json!({"work_spec": spec, verb: count}));
    }
    println!("{verb} {count} unit(s) of work spec {spec:?}");
    Ok(())
}
