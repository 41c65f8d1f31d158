//! `coordinate cancel SPEC UNIT…`: takes running units from their workers
//! by expiring their pending attempts. A worker runtime that listens (on
//! PostgreSQL, or through `coordinated`) stops the handlers at once; its
//! results are dropped and the units are available again.

use anyhow::Result;
use clap::Args;
use coordinate_api::AttemptStatus;
use serde_json::json;

use crate::output::print_json;
use crate::units::named_units;
use crate::{connect, Global};

/// Arguments of `cancel`.
#[derive(Args)]
pub struct CancelArgs {
    /// The work spec.
    spec: String,
    /// The units to take from their workers.
    #[arg(required = true)]
    names: Vec<String>,
}

pub fn cancel(global: &Global, args: &CancelArgs) -> Result<()> {
    let (_, spec) = connect::work_spec(global, &args.spec)?;
    // Every name must exist before anything changes.
    let units = named_units(spec.as_ref(), &args.names)?;
    let mut cancelled = Vec::new();
    let mut not_pending = Vec::new();
    for unit in &units {
        let pending = match unit.active_attempt()? {
            Some(attempt) if attempt.status()? == AttemptStatus::Pending => Some(attempt),
            _ => None,
        };
        match pending {
            // Expired meanwhile by its lease or by someone else: nothing
            // left to cancel.
            Some(attempt) => match attempt.expire(None) {
                Ok(()) => cancelled.push(unit.name().to_owned()),
                Err(
                    coordinate_api::Error::NotPending { .. }
                    | coordinate_api::Error::LostLease { .. },
                ) => not_pending.push(unit.name().to_owned()),
                Err(error) => return Err(error.into()),
            },
            None => not_pending.push(unit.name().to_owned()),
        }
    }
    if global.json {
        return print_json(&json!({
            "work_spec": args.spec,
            "cancelled": cancelled,
            "not_pending": not_pending,
        }));
    }
    println!(
        "cancelled {} unit(s) of work spec {:?}",
        cancelled.len(),
        args.spec
    );
    if !not_pending.is_empty() {
        let names: Vec<String> = not_pending.iter().map(|n| format!("{n:?}")).collect();
        println!("no pending attempt, left alone: {}", names.join(", "));
    }
    Ok(())
}
