//! `specs`, `spec show`, `spec set`, `pause` and `resume`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use coordinate_api::WorkSpecMeta;
use serde_json::{json, Value as Json};

use crate::connect;
use crate::json::{data_to_json, json_to_data};
use crate::output::{json_maybe_time, maybe_time, print_json, Table};
use crate::Global;

/// The verbs under `spec`.
#[derive(Subcommand)]
pub enum SpecCommand {
    /// Show a work spec's definition and settings.
    Show {
        /// The work spec.
        name: String,
    },
    /// Create or replace a work spec from its definition: a JSON object
    /// with at least a "name" (the namespace is made if needed).
    Set {
        /// The definition's file, or - for standard input.
        file: PathBuf,
    },
}

pub fn list(global: &Global) -> Result<()> {
    let coordinate = connect::coordinate(global)?;
    let namespace = connect::namespace(coordinate.as_ref(), global)?;
    let mut specs = Vec::new();
    for name in namespace.work_spec_names()? {
        let meta = namespace.work_spec(&name)?.meta(true)?;
        specs.push((name, meta));
    }
    if global.json {
        let rows: Vec<Json> = specs
            .iter()
            .map(|(name, meta)| json!({"name": name, "meta": meta_json(meta)}))
            .collect();
        return print_json(&Json::Array(rows));
    }
    let mut table = Table::new(&[
        "NAME",
        ">PRIORITY",
        ">WEIGHT",
        "PAUSED",
        "CONTINUOUS",
        "THEN",
        ">AVAILABLE",
        ">PENDING",
    ]);
    for (name, meta) in specs {
        table.row(vec![
            name,
            meta.priority.to_string(),
            meta.weight.to_string(),
            yes_no(meta.paused),
            yes_no(meta.continuous),
            dash(&meta.next_work_spec_name),
            meta.available_count.to_string(),
            meta.pending_count.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

pub fn spec(global: &Global, command: SpecCommand) -> Result<()> {
    match command {
        SpecCommand::Show { name } => show(global, &name),
        SpecCommand::Set { file } => set(global, &file),
    }
}

fn show(global: &Global, name: &str) -> Result<()> {
    let (_, spec) = connect::work_spec(global, name)?;
    let definition = data_to_json(&spec.data()?);
    let meta = spec.meta(true)?;
    if global.json {
        return print_json(&json!({
            "name": name,
            "definition": definition,
            "meta": meta_json(&meta),
        }));
    }
    let mut table = Table::new(&["SETTING", "VALUE"]);
    let rows: [(&str, String); 14] = [
        ("name", name.to_owned()),
        ("priority", meta.priority.to_string()),
        ("weight", meta.weight.to_string()),
        ("paused", yes_no(meta.paused)),
        ("continuous", yes_no(meta.continuous)),
        ("can be continuous", yes_no(meta.can_be_continuous)),
        ("interval", format!("{} s", meta.interval.as_secs_f64())),
        ("next continuous", maybe_time(meta.next_continuous)),
        ("max running", limit(meta.max_running)),
        ("max attempts returned", limit(meta.max_attempts_returned)),
        ("max retries", limit(meta.max_retries)),
        ("then", dash(&meta.next_work_spec_name)),
        ("runtime", dash(&meta.runtime)),
        (
            "units",
            format!(
                "{} available, {} pending",
                meta.available_count, meta.pending_count
            ),
        ),
    ];
    for (setting, value) in rows {
        table.row(vec![setting.to_owned(), value]);
    }
    table.print();
    println!(
        "\ndefinition:\n{}",
        serde_json::to_string_pretty(&definition)?
    );
    Ok(())
}

fn set(global: &Global, file: &std::path::Path) -> Result<()> {
    let text = read_input(file)?;
    let json: Json =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let definition =
        json_to_data(&json).with_context(|| format!("the definition in {}", file.display()))?;
    // The library checks the rest; the name is checked here so that a
    // nameless definition does not leave a new, empty namespace behind.
    let Some(coordinate_api::Value::Text(name)) = definition.get("name").cloned() else {
        bail!(
            "the definition in {} needs a \"name\" that is a string",
            file.display()
        );
    };
    let namespace_name = connect::namespace_name(global)?;
    let coordinate = connect::coordinate(global)?;
    let namespace_existed = coordinate
        .namespaces()?
        .iter()
        .any(|ns| ns.name() == namespace_name);
    let namespace = coordinate.namespace(namespace_name)?;
    let existed = namespace_existed && namespace.work_spec_names()?.contains(&name);
    let spec = match namespace.set_work_spec(definition) {
        Ok(spec) => spec,
        Err(error) => {
            if !namespace_existed {
                // Undo the namespace this call made: bad input changes nothing.
                let _ = namespace.destroy();
            }
            return Err(error.into());
        }
    };
    let verb = if existed { "replaced" } else { "created" };
    if global.json {
        return print_json(&json!({"name": spec.name(), "result": verb}));
    }
    println!("work spec {:?} {verb}", spec.name());
    Ok(())
}

/// The text of `file`, or of standard input for `-`.
pub fn read_input(file: &std::path::Path) -> Result<String> {
    if file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    }
}

pub fn set_paused(global: &Global, name: &str, paused: bool) -> Result<()> {
    let (_, spec) = connect::work_spec(global, name)?;
    let mut meta = spec.meta(false)?;
    let was = meta.paused;
    meta.paused = paused;
    spec.set_meta(meta)?;
    let state = if paused { "paused" } else { "running" };
    let note = if was == paused { " (already)" } else { "" };
    if global.json {
        return print_json(&json!({"name": name, "paused": paused, "changed": was != paused}));
    }
    println!("work spec {name:?} {state}{note}");
    Ok(())
}

/// A spec's settings for `--json`: every field, durations in seconds.
fn meta_json(meta: &WorkSpecMeta) -> Json {
    json!({
        "priority": meta.priority,
        "weight": meta.weight,
        "paused": meta.paused,
        "continuous": meta.continuous,
        "can_be_continuous": meta.can_be_continuous,
        "min_memory_gb": meta.min_memory_gb,
        "interval_seconds": meta.interval.as_secs_f64(),
        "next_continuous": json_maybe_time(meta.next_continuous),
        "max_running": meta.max_running,
        "max_attempts_returned": meta.max_attempts_returned,
        "max_retries": meta.max_retries,
        "then": meta.next_work_spec_name,
        "runtime": meta.runtime,
        "available": meta.available_count,
        "pending": meta.pending_count,
    })
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn dash(text: &str) -> String {
    if text.is_empty() {
        "-".into()
    } else {
        text.to_owned()
    }
}

fn limit(n: i32) -> String {
    if n == 0 {
        "none".into()
    } else {
        n.to_string()
    }
}
