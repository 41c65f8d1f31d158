//! `workers` (the parent/child tree) and `release` (a dead worker's
//! units back to the queue).

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use clap::Args;
use coordinate_api::operate::ReleasePlan;
use coordinate_api::{Error, Worker};
use serde_json::{json, Value as Json};

use crate::connect;
use crate::output::{confirm, json_time, print_json, time, Table};
use crate::Global;

/// Arguments of `workers`.
#[derive(Args)]
pub struct WorkersArgs {
    /// Inactive workers too (those that stopped, or were released).
    #[arg(long)]
    all: bool,
}

/// Arguments of `release`.
#[derive(Args)]
pub struct ReleaseArgs {
    /// The worker (its children are released with it).
    worker: String,
    /// Do not ask.
    #[arg(long, short = 'y')]
    yes: bool,
    /// Release it even though its last report is still current.
    #[arg(long)]
    force: bool,
}

/// What `workers` shows of one worker.
struct Row {
    name: String,
    parent: Option<String>,
    active: bool,
    mode: String,
    last_update: DateTime<Utc>,
    expiration: DateTime<Utc>,
    attempts: usize,
}

fn row(worker: &dyn Worker) -> Result<Row> {
    Ok(Row {
        name: worker.name().to_owned(),
        parent: worker.parent()?.map(|p| p.name().to_owned()),
        active: worker.active()?,
        mode: worker.mode()?,
        last_update: worker.last_update()?,
        expiration: worker.expiration()?,
        attempts: worker.active_attempts()?.len(),
    })
}

/// `active`, `inactive`, or `expired` for an active worker whose last
/// report ran out (it has probably died: see `release`).
fn state(row: &Row, now: DateTime<Utc>) -> &'static str {
    match (row.active, row.expiration > now) {
        (false, _) => "inactive",
        (true, true) => "active",
        (true, false) => "expired",
    }
}

pub fn list(global: &Global, args: &WorkersArgs) -> Result<()> {
    let coordinate = connect::coordinate(global)?;
    let namespace = connect::namespace(coordinate.as_ref(), global)?;
    let now = Utc::now();
    let mut rows = Vec::new();
    for worker in namespace.workers()? {
        let row = row(worker.as_ref())?;
        if args.all || row.active {
            rows.push(row);
        }
    }
    if global.json {
        let rows: Vec<Json> = rows
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "parent": r.parent,
                    "state": state(r, now),
                    "mode": r.mode,
                    "last_update": json_time(r.last_update),
                    "expiration": json_time(r.expiration),
                    "active_attempts": r.attempts,
                })
            })
            .collect();
        return print_json(&Json::Array(rows));
    }
    let mut table = Table::new(&[
        "WORKER",
        "STATE",
        "MODE",
        "LAST UPDATE",
        "EXPIRES",
        ">ATTEMPTS",
    ]);
    for (depth, row) in tree(&rows) {
        table.row(vec![
            format!("{}{}", "  ".repeat(depth), row.name),
            state(row, now).to_owned(),
            if row.mode.is_empty() {
                "-".into()
            } else {
                row.mode.clone()
            },
            time(row.last_update),
            time(row.expiration),
            row.attempts.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

/// The rows in tree order with their depth: each root (no parent, or a
/// parent not shown) by name, its children after it.
fn tree(rows: &[Row]) -> Vec<(usize, &Row)> {
    let shown: BTreeMap<&str, &Row> = rows.iter().map(|r| (r.name.as_str(), r)).collect();
    let mut children: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    let mut roots = Vec::new();
    for row in rows {
        match row.parent.as_deref().filter(|p| shown.contains_key(p)) {
            Some(parent) => children.entry(parent).or_default().push(row),
            None => roots.push(row),
        }
    }
    let mut out = Vec::new();
    // Depth-first with an explicit stack; a parent cycle cannot occur
    // through the API, and the depth check stops one anyway.
    let mut stack: Vec<(usize, &Row)> = roots.into_iter().rev().map(|r| (0, r)).collect();
    while let Some((depth, row)) = stack.pop() {
        out.push((depth, row));
        if depth < rows.len() {
            if let Some(kids) = children.get(row.name.as_str()) {
                stack.extend(kids.iter().rev().map(|k| (depth + 1, *k)));
            }
        }
    }
    out
}

/// Expires the worker's active attempts and its children's, so their units
/// are available at once instead of when the leases run out, and marks
/// them inactive. A worker whose last report is still current may be
/// alive (its attempts would come back as lost leases), so that needs
/// `--force`.
pub fn release(global: &Global, args: &ReleaseArgs) -> Result<()> {
    let coordinate = connect::coordinate(global)?;
    let namespace = connect::namespace(coordinate.as_ref(), global)?;
    let worker = connect::worker(namespace.as_ref(), &args.worker)?;
    let plan = match ReleasePlan::new(worker, args.force, Utc::now()) {
        Err(Error::InvalidInput { why, .. }) => bail!("{why} (stop it first, or pass --force)"),
        other => other?,
    };
    let question = format!(
        "expire {} active attempt(s) of worker {:?}{} so their units go back to the queue?",
        plan.attempts(),
        args.worker,
        match plan.children() {
            0 => String::new(),
            n => format!(" and its {n} child worker(s)"),
        }
    );
    if !confirm(args.yes, &question)? {
        bail!("nothing released");
    }
    let released = plan.carry_out()?;
    if global.json {
        return print_json(&json!({"worker": args.worker, "released": released}));
    }
    println!("released {released} unit(s) of worker {:?}", args.worker);
    Ok(())
}
