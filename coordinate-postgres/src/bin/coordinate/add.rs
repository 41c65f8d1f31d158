//! `add SPEC [FILE|-]`: units from JSON lines, checked whole before the
//! first is sent, then written with `add_work_units` in batches.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::Args;
use coordinate_api::backend::validate::{add_duration, validate_name, validate_priority};
use coordinate_api::data::{encode_within, DEFAULT_MAX_DATA_BYTES};
use coordinate_api::{Data, NewWorkUnit, WorkUnitMeta};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Value as Json};

use crate::connect;
use crate::json::{json_to_data, kind};
use crate::output::print_json;
use crate::Global;

/// Units per `add_work_units` call: one transaction each.
const BATCH: usize = 1000;
/// Malformed lines reported before the rest are only counted.
const SHOWN_ERRORS: usize = 10;

/// Arguments of `add`.
#[derive(Args)]
pub struct AddArgs {
    /// The work spec.
    spec: String,
    /// JSON lines, one unit each: {"name": "u1", "data": {…}, "priority": 5,
    /// "delay": 60}; only "name" is required. Standard input if - or absent.
    file: Option<PathBuf>,
}

pub fn add(global: &Global, args: &AddArgs) -> Result<()> {
    let file = args.file.clone().unwrap_or_else(|| PathBuf::from("-"));
    let source = if file.as_os_str() == "-" {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    let text = crate::specs::read_input(&file)?;
    let units = parse(&text, Utc::now()).map_err(|errors| {
        let mut message = format!(
            "{} malformed line(s) in {source}; nothing added:",
            errors.len()
        );
        for error in errors.iter().take(SHOWN_ERRORS) {
            message.push_str("\n  ");
            message.push_str(error);
        }
        if errors.len() > SHOWN_ERRORS {
            message.push_str(&format!("\n  … and {} more", errors.len() - SHOWN_ERRORS));
        }
        anyhow!(message)
    })?;
    // Connect (and find the spec) only after the whole input is good.
    let (_, spec) = connect::work_spec(global, &args.spec)?;
    let progress = if std::io::stderr().is_terminal() && !global.json {
        ProgressBar::with_draw_target(Some(units.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} units, {per_sec}, {eta} left")
            .expect("a valid template"),
    );
    let total = units.len();
    let mut sent = 0;
    let mut written = 0;
    let mut units = units.into_iter().peekable();
    while units.peek().is_some() {
        let batch: Vec<NewWorkUnit> = units.by_ref().take(BATCH).collect();
        let size = batch.len();
        written += spec.add_work_units(batch).with_context(|| {
            format!("after {sent} of {total} units were added (in batches of {BATCH})")
        })?;
        sent += size;
        progress.inc(size as u64);
    }
    progress.finish_and_clear();
    if global.json {
        return print_json(&json!({"work_spec": args.spec, "added": written}));
    }
    println!("added {written} unit(s) to work spec {:?}", args.spec);
    Ok(())
}

/// Every unit of the input, or every malformed line's message (with its
/// line number). Blank lines are skipped.
fn parse(text: &str, now: DateTime<Utc>) -> std::result::Result<Vec<NewWorkUnit>, Vec<String>> {
    let mut units = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse_line(line, now) {
            Ok(unit) => units.push(unit),
            Err(error) => errors.push(format!("line {}: {error:#}", index + 1)),
        }
    }
    if errors.is_empty() {
        Ok(units)
    } else {
        Err(errors)
    }
}

fn parse_line(line: &str, now: DateTime<Utc>) -> Result<NewWorkUnit> {
    let json: Json = serde_json::from_str(line).context("not JSON")?;
    let Json::Object(fields) = json else {
        bail!("expected an object, found {}", kind(&json));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !["name", "data", "priority", "delay"].contains(&k.as_str()))
    {
        bail!("unknown key {unknown:?} (the keys are name, data, priority, delay)");
    }
    let name = match fields.get("name") {
        Some(Json::String(name)) => name.clone(),
        Some(other) => bail!("\"name\" must be a string, found {}", kind(other)),
        None => bail!("no \"name\""),
    };
    validate_name("work unit name", &name)?;
    let data = match fields.get("data") {
        None | Some(Json::Null) => Data::new(),
        Some(data) => json_to_data(data).context("\"data\"")?,
    };
    encode_within(&data, DEFAULT_MAX_DATA_BYTES)?;
    let mut meta = WorkUnitMeta::default();
    if let Some(priority) = fields.get("priority") {
        meta.priority = priority
            .as_f64()
            .with_context(|| format!("\"priority\" must be a number, found {}", kind(priority)))?;
        validate_priority("priority", meta.priority)?;
    }
    if let Some(delay) = fields.get("delay") {
        let seconds = delay
            .as_f64()
            .filter(|s| *s >= 0.0)
            .with_context(|| format!("\"delay\" must be a number of seconds ≥ 0, found {delay}"))?;
        let delay = Duration::try_from_secs_f64(seconds).context("\"delay\" is too long")?;
        if !delay.is_zero() {
            meta.not_before = Some(add_duration("delay", now, delay)?);
        }
    }
    Ok(NewWorkUnit { name, data, meta })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_600_000_000, 0).unwrap()
    }

    #[test]
    fn lines_become_units() {
        let text = "{\"name\": \"a\"}\n\n{\"name\": \"b\", \"data\": {\"k\": {\"$bytes\": \"ff\"}}, \"priority\": 2, \"delay\": 60}\n";
        let units = parse(text, now()).unwrap();
        assert_eq!(units.len(), 2);
        assert_eq!(units[0].meta, WorkUnitMeta::default());
        assert_eq!(units[1].data["k"], coordinate_api::Value::Bytes(vec![0xff]));
        assert_eq!(units[1].meta.priority, 2.0);
        assert_eq!(
            units[1].meta.not_before,
            Some(now() + chrono::Duration::seconds(60))
        );
    }

    #[test]
    fn every_bad_line_is_named_by_number() {
        let text =
            "{\"name\": \"ok\"}\nnot json\n{\"data\": {}}\n{\"name\": 3}\n{\"name\": \"\"}\n\
                    {\"name\": \"x\", \"delay\": -1}\n{\"name\": \"x\", \"prio\": 1}\n[1]\n\
                    {\"name\": \"x\", \"data\": [1]}\n";
        let errors = parse(text, now()).unwrap_err();
        let lines: Vec<&str> = errors
            .iter()
            .map(|e| e.split(':').next().unwrap())
            .collect();
        assert_eq!(
            lines,
            ["line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8", "line 9"]
        );
        assert!(errors[1].contains("no \"name\""), "{}", errors[1]);
        assert!(errors[5].contains("unknown key \"prio\""), "{}", errors[5]);
    }
}
