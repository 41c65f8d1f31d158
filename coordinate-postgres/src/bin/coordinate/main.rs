//! `coordinate`: the operator's command for a coordinate stored in
//! PostgreSQL (feature `cli`). It looks at summaries, specs, units and
//! workers, loads and retries units, pauses specs and manages the schema,
//! after go-coordinate's Python `coordinate` tool. Run `coordinate --help`.
//!
//! Exit codes: 0 success, 1 failure, 2 usage (clap's own usage errors,
//! a missing `-n`, a destructive verb without `--yes` off a terminal).

mod add;
mod cancel;
mod connect;
// The CBOR↔JSON mapping for people lives in coordinate-rest, shared with the
// dashboard of `coordinated`.
use coordinate_rest::data_json as json;
mod output;
mod prune;
mod schema;
mod specs;
mod summary;
mod units;
mod workers;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Operate a coordinate stored in PostgreSQL.
#[derive(Parser)]
#[command(name = "coordinate", version)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every verb takes, before or after it.
#[derive(Args)]
pub struct Global {
    /// PostgreSQL connection string (URL, `postgres:` key=value pairs);
    /// unset: DATABASE_URL, else libpq's PG* variables.
    #[arg(
        short = 'd',
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,
    /// The namespace (needed by every verb that looks inside one).
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// Print JSON for scripts instead of tables (CBOR mapped as the
    /// README's "Operating it" section says).
    #[arg(long, global = true)]
    pub json: bool,
    /// The connection goes through a transaction-pooling proxy (PgBouncer
    /// in `pool_mode = transaction`): no named statements, no session
    /// settings.
    #[arg(long, env = "COORDINATE_TRANSACTION_POOLING", global = true)]
    pub transaction_pooling: bool,
    /// Log more on stderr: -v info, -vv debug, -vvv trace (RUST_LOG wins).
    #[arg(short = 'v', long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Unit counts per work spec: available, pending, delayed, finished,
    /// failed (every namespace unless -n).
    Summary(summary::SummaryArgs),
    /// List the namespaces.
    Namespaces,
    /// List the work specs of the namespace, with their settings.
    Specs,
    /// Show or set one work spec.
    #[command(subcommand)]
    Spec(specs::SpecCommand),
    /// Pause a work spec: it hands out no more work.
    Pause {
        /// The work spec.
        name: String,
    },
    /// Resume a paused work spec.
    Resume {
        /// The work spec.
        name: String,
    },
    /// List a work spec's units.
    Units(units::UnitsArgs),
    /// Show one unit: data, status and every attempt.
    Unit {
        /// The work spec.
        spec: String,
        /// The unit.
        name: String,
    },
    /// Add units from JSON lines: {"name": …, "data": {…}, "priority": …,
    /// "delay": seconds}.
    Add(add::AddArgs),
    /// Make failed units available again.
    Retry(units::RetryArgs),
    /// Set the priority of units.
    Prioritize(units::PrioritizeArgs),
    /// Take running units from their workers: expire their pending
    /// attempts (a listening worker stops the handler at once).
    Cancel(cancel::CancelArgs),
    /// Delete units (asks first).
    Delete(units::DeleteArgs),
    /// The workers, parents with their children.
    Workers(workers::WorkersArgs),
    /// Give a dead worker's units back to the queue (asks first).
    Release(workers::ReleaseArgs),
    /// Remove old finished and failed units and dead workers (asks first).
    Prune(prune::PruneArgs),
    /// Apply pending schema migrations (or adopt a go-coordinate database).
    Migrate,
    /// Drop every table of the schema, with all data (asks first).
    Drop(schema::DropArgs),
}

/// An error in how the command was called: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints each link of the chain once (the library's
            // errors leave their causes to `source()`).
            eprintln!("coordinate: {error:#}");
            if error.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let global = &cli.global;
    match cli.command {
        Command::Summary(args) => summary::summary(global, &args),
        Command::Namespaces => summary::namespaces(global),
        Command::Specs => specs::list(global),
        Command::Spec(command) => specs::spec(global, command),
        Command::Pause { name } => specs::set_paused(global, &name, true),
        Command::Resume { name } => specs::set_paused(global, &name, false),
        Command::Units(args) => units::list(global, &args),
        Command::Unit { spec, name } => units::show(global, &spec, &name),
        Command::Add(args) => add::add(global, &args),
        Command::Retry(args) => units::retry(global, &args),
        Command::Prioritize(args) => units::prioritize(global, &args),
        Command::Cancel(args) => cancel::cancel(global, &args),
        Command::Delete(args) => units::delete(global, &args),
        Command::Workers(args) => workers::list(global, &args),
        Command::Release(args) => workers::release(global, &args),
        Command::Prune(args) => prune::prune(global, &args),
        Command::Migrate => schema::migrate(global),
        Command::Drop(args) => schema::drop(global, &args),
    }
}

/// Log lines go to stderr, so stdout stays the answer. `RUST_LOG` when
/// set, else warnings, or more with each `-v`.
fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}
