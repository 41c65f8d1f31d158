//! `summary` (as a table, JSON or Prometheus text, once or every few
//! seconds) and `namespaces`.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use coordinate_api::{Coordinate, Namespace, WorkUnitStatus};
use serde_json::{json, Value as Json};

use crate::connect;
use crate::output::{print_json, Table};
use crate::Global;

/// The statuses in the order the summary shows them.
const COLUMNS: [WorkUnitStatus; 5] = [
    WorkUnitStatus::Available,
    WorkUnitStatus::Pending,
    WorkUnitStatus::Delayed,
    WorkUnitStatus::Finished,
    WorkUnitStatus::Failed,
];

/// Arguments of `summary`.
#[derive(Args)]
pub struct SummaryArgs {
    /// Print again every SECONDS (default 5) until interrupted.
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "5")]
    watch: Option<u64>,
    /// Output format (`--json` is the same as `--format json`).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// How `summary` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns.
    Table,
    /// One JSON array of rows.
    Json,
    /// Prometheus text exposition: the gauge `coordinate_work_units`.
    Prometheus,
}

/// One work spec's counts, in [`COLUMNS`] order.
struct Row {
    namespace: String,
    work_spec: String,
    counts: [usize; 5],
}

pub fn summary(global: &Global, args: &SummaryArgs) -> Result<()> {
    let format = if global.json {
        Format::Json
    } else {
        args.format
    };
    let coordinate = connect::coordinate(global)?;
    let Some(seconds) = args.watch else {
        print!(
            "{}",
            render(&rows(coordinate.as_ref(), global)?, format, global)?
        );
        return Ok(());
    };
    let interval = Duration::from_secs(seconds.max(1));
    let clear = std::io::stdout().is_terminal();
    loop {
        let text = render(&rows(coordinate.as_ref(), global)?, format, global)?;
        if clear {
            // Home and clear the screen, so the table redraws in place.
            print!("\x1b[H\x1b[2J");
            println!(
                "every {seconds} s, {}",
                crate::output::time(chrono::Utc::now())
            );
        }
        print!("{text}");
        std::io::Write::flush(&mut std::io::stdout())?;
        std::thread::sleep(interval);
    }
}

/// Every work spec of the namespace `-n` names, or of every namespace,
/// with zero counts for work specs without units.
fn rows(coordinate: &dyn Coordinate, global: &Global) -> Result<Vec<Row>> {
    let namespaces = match global.namespace {
        Some(_) => vec![connect::namespace(coordinate, global)?],
        None => coordinate.namespaces()?,
    };
    let mut rows = Vec::new();
    for namespace in namespaces {
        rows.extend(namespace_rows(namespace.as_ref())?);
    }
    Ok(rows)
}

fn namespace_rows(namespace: &dyn Namespace) -> Result<Vec<Row>> {
    let mut rows: Vec<Row> = namespace
        .work_spec_names()?
        .into_iter()
        .map(|work_spec| Row {
            namespace: namespace.name().to_owned(),
            work_spec,
            counts: [0; 5],
        })
        .collect();
    for record in namespace.summarize()? {
        let column = COLUMNS.iter().position(|s| *s == record.status);
        // A spec made between the two reads shows up in the summary only.
        let index = match rows.iter().position(|r| r.work_spec == record.work_spec) {
            Some(index) => index,
            None => {
                rows.push(Row {
                    namespace: record.namespace.clone(),
                    work_spec: record.work_spec.clone(),
                    counts: [0; 5],
                });
                rows.len() - 1
            }
        };
        if let Some(column) = column {
            rows[index].counts[column] = record.count;
        }
    }
    rows.sort_by(|a, b| a.work_spec.cmp(&b.work_spec));
    Ok(rows)
}

fn render(rows: &[Row], format: Format, global: &Global) -> Result<String> {
    Ok(match format {
        Format::Table => table(rows, global.namespace.is_none()),
        Format::Json => {
            let rows: Vec<Json> = rows
                .iter()
                .map(|row| {
                    let mut object = json!({
                        "namespace": row.namespace,
                        "work_spec": row.work_spec,
                    });
                    for (status, count) in COLUMNS.iter().zip(row.counts) {
                        object[status.as_str()] = json!(count);
                    }
                    object
                })
                .collect();
            serde_json::to_string_pretty(&rows)? + "\n"
        }
        Format::Prometheus => prometheus(rows),
    })
}

fn table(rows: &[Row], with_namespace: bool) -> String {
    let mut header = vec![
        "SPEC",
        ">AVAILABLE",
        ">PENDING",
        ">DELAYED",
        ">FINISHED",
        ">FAILED",
    ];
    if with_namespace {
        header.insert(0, "NAMESPACE");
    }
    let mut table = Table::new(&header);
    for row in rows {
        let mut cells = Vec::new();
        if with_namespace {
            cells.push(row.namespace.clone());
        }
        cells.push(row.work_spec.clone());
        cells.extend(row.counts.iter().map(usize::to_string));
        table.row(cells);
    }
    table.render()
}

/// The Prometheus text exposition format (version 0.0.4) of the gauge
/// go-coordinate's daemon exported, one sample per spec and status, zeros
/// included so that a status emptying shows as 0 rather than vanishing.
fn prometheus(rows: &[Row]) -> String {
    let mut out = String::from(
        "# HELP coordinate_work_units Number of work units per namespace, work spec and status.\n\
         # TYPE coordinate_work_units gauge\n",
    );
    for row in rows {
        for (status, count) in COLUMNS.iter().zip(row.counts) {
            let _ = writeln!(
                out,
                "coordinate_work_units{{namespace=\"{}\",work_spec=\"{}\",status=\"{}\"}} {count}",
                label(&row.namespace),
                label(&row.work_spec),
                status.as_str()
            );
        }
    }
    out
}

/// A label value escaped as the exposition format requires: backslash,
/// double quote and line feed.
fn label(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

pub fn namespaces(global: &Global) -> Result<()> {
    let coordinate = connect::coordinate(global)?;
    let names: Vec<String> = coordinate
        .namespaces()?
        .iter()
        .map(|ns| ns.name().to_owned())
        .collect();
    if global.json {
        return print_json(&json!(names));
    }
    let mut table = Table::new(&["NAMESPACE"]);
    for name in names {
        table.row(vec![name]);
    }
    table.print();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_labels_are_escaped() {
        let rows = [Row {
            namespace: "a\"b".into(),
            work_spec: "c\\d\ne".into(),
            counts: [1, 0, 0, 0, 2],
        }];
        let text = prometheus(&rows);
        assert!(text.contains(
            "coordinate_work_units{namespace=\"a\\\"b\",work_spec=\"c\\\\d\\ne\",status=\"available\"} 1\n"
        ));
        assert!(text.ends_with("status=\"failed\"} 2\n"));
        assert_eq!(text.lines().count(), 2 + 5);
    }
}
