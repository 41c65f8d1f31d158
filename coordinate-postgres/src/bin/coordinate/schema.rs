//! `migrate` and `drop`: the library's `upgrade` and `drop`, which open a
//! single connection of their own (no pool, no coordinate).

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;

use crate::connect::conn_string;
use crate::output::{confirm, print_json};
use crate::Global;

/// Arguments of `drop`.
#[derive(Args)]
pub struct DropArgs {
    /// Do not ask.
    #[arg(long, short = 'y')]
    yes: bool,
}

pub fn migrate(global: &Global) -> Result<()> {
    coordinate_postgres::upgrade(conn_string(global)).context("migrating the schema")?;
    if global.json {
        return print_json(&json!({"migrated": true}));
    }
    println!("the schema is up to date");
    Ok(())
}

pub fn drop(global: &Global, args: &DropArgs) -> Result<()> {
    if !confirm(
        args.yes,
        "drop every coordinate table of this database, with all namespaces, units and workers?",
    )? {
        bail!("nothing dropped");
    }
    coordinate_postgres::drop(conn_string(global)).context("dropping the schema")?;
    if global.json {
        return print_json(&json!({"dropped": true}));
    }
    println!("the schema is dropped");
    Ok(())
}
