//! `migrate` and `drop`: the library's `upgrade` and `drop`, which open a
//! single connection of their own (no pool, no coordinate).

use anyhow::{bail, Context, Result};
use clap::Args;
use serde_json::json;

use crate::connect::{conn_string, is_server};
use crate::output::{confirm, print_json};
use crate::Global;
use crate::UsageError;

/// Arguments of `drop`.
#[derive(Args)]
pub struct DropArgs {
    /// Do not ask.
    #[arg(long, short = 'y')]
    yes: bool,
}

/// The schema belongs to the database behind a server, not to its clients.
fn refuse_servers(global: &Global, verb: &str) -> Result<()> {
    if is_server(conn_string(global)) {
        bail!(UsageError(format!(
            "`{verb}` changes a database's schema: give it the database's connection string, \
             not a coordinated server's URL"
        )));
    }
    Ok(())
}

pub fn migrate(global: &Global) -> Result<()> {
    refuse_servers(global, "migrate")?;
    coordinate_postgres::upgrade(conn_string(global)).context("migrating the schema")?;
    if global.json {
        return print_json(&json!({"migrated": true}));
    }
    println!("the schema is up to date");
    Ok(())
}

pub fn drop(global: &Global, args: &DropArgs) -> Result<()> {
    refuse_servers(global, "drop")?;
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
