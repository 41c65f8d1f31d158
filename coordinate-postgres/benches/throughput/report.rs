//! Results: one row per measurement, targets checked against ratios from
//! the same run, printed as a table and written as JSON.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cpu::Cpu;

/// One measurement.
#[derive(Debug, Clone, Default)]
pub struct Row {
    /// Stable identifier, e.g. `api/b1/w4`; targets refer to rows by it.
    pub key: String,
    /// What was measured, for people.
    pub what: String,
    /// Threads or pgbench clients.
    pub threads: usize,
    /// Units asked for per request (1 where it does not apply).
    pub batch: usize,
    /// Units processed.
    pub units: u64,
    /// Wall time of the run.
    pub seconds: f64,
    /// Latency percentiles in milliseconds, where measured.
    pub p50_ms: Option<f64>,
    /// See `p50_ms`.
    pub p99_ms: Option<f64>,
    /// Peak resident memory of this process during the run.
    pub peak_rss_mib: Option<f64>,
    /// CPU the whole machine spent during the run.
    pub cpu: Option<Cpu>,
    /// This figure divided by the pgbench reference at the same concurrency.
    pub vs_reference: Option<f64>,
    /// The targets that apply to this row, their measured ratios and
    /// outcomes.
    pub targets: Vec<Verdict>,
}

/// A target checked on one row.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The target, e.g. `>= 0.5x reference`.
    pub wanted: String,
    /// The measured value the target is about, e.g. `0.62x`.
    pub got: String,
    /// The same value as a number, for taking medians over repetitions.
    pub measured: f64,
    /// Whether the target was met.
    pub pass: bool,
}

impl Row {
    /// CPU microseconds per unit, every process together.
    pub fn cpu_per_unit(&self) -> Option<f64> {
        self.per_unit(self.cpu?.machine_seconds)
    }

    /// CPU microseconds per unit spent by this process (the client).
    pub fn own_cpu_per_unit(&self) -> Option<f64> {
        self.per_unit(self.cpu?.own_seconds?)
    }

    /// The machine's busy share during the run, in percent.
    pub fn busy_percent(&self) -> Option<f64> {
        Some(self.cpu?.busy * 100.0)
    }

    fn per_unit(&self, seconds: f64) -> Option<f64> {
        (self.units > 0).then(|| seconds * 1e6 / self.units as f64)
    }

    /// Units per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.units as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Orders rows for reading: reference, replay, API claims by batch, adds,
/// scale, memory; by concurrency within each group (stable otherwise). A
/// `rest/…` claim row goes with the `api/…` row of its shape, which it
/// follows in the run, so that the two are read side by side.
pub fn sort(rows: &mut [Row]) {
    const GROUPS: [&str; 7] = [
        "ref/",
        "go/",
        "api/b1/",
        "api/b100/",
        "add/",
        "scale/",
        "mem/",
    ];
    rows.sort_by_key(|r| {
        let shape = match r.key.strip_prefix("rest/") {
            Some(rest) => format!("api/{rest}"),
            None => r.key.clone(),
        };
        let group = GROUPS.iter().position(|g| shape.starts_with(g));
        let concurrency = if r.key.starts_with("add/") || r.key.starts_with("mem/") {
            0
        } else {
            r.threads
        };
        (group.unwrap_or(GROUPS.len()), concurrency)
    });
}

/// Latency percentiles (p50, p99) in milliseconds.
pub fn percentiles(latencies: &mut [Duration]) -> (Option<f64>, Option<f64>) {
    if latencies.is_empty() {
        return (None, None);
    }
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies[index].as_secs_f64() * 1e3
    };
    (Some(at(0.50)), Some(at(0.99)))
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

/// The table printed at the end of a run.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let header = [
        "key",
        "what",
        "thr",
        "batch",
        "units",
        "units/s",
        "p50 ms",
        "p99 ms",
        "RSS MiB",
        "cpu µs/u",
        "own µs/u",
        "busy %",
        "vs ref",
        "target",
        "got",
        "ok",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for row in rows {
        let join = |f: &dyn Fn(&Verdict) -> String| {
            row.targets.iter().map(f).collect::<Vec<_>>().join("; ")
        };
        let wanted = join(&|v| v.wanted.clone());
        let got = join(&|v| v.got.clone());
        let ok = join(&|v| if v.pass { "pass" } else { "MISS" }.to_owned());
        cells.push(vec![
            row.key.clone(),
            row.what.clone(),
            row.threads.to_string(),
            row.batch.to_string(),
            row.units.to_string(),
            format!("{:.0}", row.rate()),
            opt(row.p50_ms, 3),
            opt(row.p99_ms, 3),
            opt(row.peak_rss_mib, 0),
            opt(row.cpu_per_unit(), 1),
            opt(row.own_cpu_per_unit(), 1),
            opt(row.busy_percent(), 0),
            opt(row.vs_reference, 2),
            wanted,
            got,
            ok,
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in cells.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, w))| {
                // Text columns left-aligned, figures right-aligned.
                if c == 1 || c >= 13 || c == 0 {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
        if i == 0 {
            let total = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            let _ = writeln!(out, "{}", "-".repeat(total));
        }
    }
    out
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

fn json_number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => "null".to_owned(),
    }
}

/// Run facts written next to the rows.
pub struct RunInfo {
    /// `--quick` was given.
    pub quick: bool,
    /// PostgreSQL's `server_version`, when a server was used.
    pub server_version: Option<String>,
    /// Durability settings (fsync, synchronous_commit, full_page_writes).
    pub durability: Option<String>,
    /// What was skipped and why.
    pub notes: Vec<String>,
}

/// Writes the rows as JSON (written by hand: one flat schema, no need for
/// a serializer dependency).
pub fn write_json(path: &Path, info: &RunInfo, rows: &[Row]) -> Result<()> {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"quick\": {},", info.quick);
    let text = |v: &Option<String>| v.as_deref().map_or("null".to_owned(), json_string);
    let _ = writeln!(out, "  \"server_version\": {},", text(&info.server_version));
    let _ = writeln!(out, "  \"durability\": {},", text(&info.durability));
    let notes: Vec<String> = info.notes.iter().map(|n| json_string(n)).collect();
    let _ = writeln!(out, "  \"notes\": [{}],", notes.join(", "));
    out.push_str("  \"rows\": [\n");
    for (i, row) in rows.iter().enumerate() {
        let targets: Vec<String> = row
            .targets
            .iter()
            .map(|v| {
                format!(
                    "{{\"wanted\": {}, \"got\": {}, \"pass\": {}}}",
                    json_string(&v.wanted),
                    json_string(&v.got),
                    v.pass
                )
            })
            .collect();
        let _ = write!(
            out,
            "    {{\"key\": {}, \"what\": {}, \"threads\": {}, \"batch\": {}, \"units\": {}, \
             \"seconds\": {}, \"units_per_second\": {}, \"p50_ms\": {}, \"p99_ms\": {}, \
             \"peak_rss_mib\": {}, \"cpu_us_per_unit\": {}, \"own_cpu_us_per_unit\": {}, \
             \"busy_percent\": {}, \"vs_reference\": {}, \"targets\": [{}]}}",
            json_string(&row.key),
            json_string(&row.what),
            row.threads,
            row.batch,
            row.units,
            json_number(Some(row.seconds)),
            json_number(Some(row.rate())),
            json_number(row.p50_ms),
            json_number(row.p99_ms),
            json_number(row.peak_rss_mib),
            json_number(row.cpu_per_unit()),
            json_number(row.own_cpu_per_unit()),
            json_number(row.busy_percent()),
            json_number(row.vs_reference),
            targets.join(", ")
        );
        out.push_str(if i + 1 < rows.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ]\n}\n");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}
