//! Running the `coordinate` command (tests/processes/cli*.rs): a real process on
//! the test database, and the namespaces its tests start from.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use coordinate_api::{AttemptRequest, Data, Namespace, Value, WorkUnitMeta, WorkUnitStatus};
use coordinate_postgres::test_support::database_url;
use serde_json::Value as Json;

use super::{coordinate, data, spec, unique};

/// What one run of the command left.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> Json {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// Runs `coordinate ARGS` on the test database, with `stdin` as its
/// standard input (not a terminal, so destructive verbs need `--yes`).
pub fn run_with(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coordinate"))
        .args(args)
        .env("DATABASE_URL", database_url())
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the coordinate command");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

pub fn run(args: &[&str]) -> Run {
    run_with(args, "", &[])
}

/// A fresh namespace with work specs `fetch` (then `parse`) and `parse`.
pub fn namespace() -> Arc<dyn Namespace> {
    let namespace = coordinate().namespace(&unique("cli")).unwrap();
    namespace
        .set_work_spec(spec(
            "fetch",
            &[
                ("then", Value::Text("parse".into())),
                ("priority", Value::Integer(2)),
            ],
        ))
        .unwrap();
    namespace.set_work_spec(spec("parse", &[])).unwrap();
    namespace
}

pub fn add(namespace: &dyn Namespace, spec: &str, names: &[&str]) {
    let spec = namespace.work_spec(spec).unwrap();
    for name in names {
        spec.add_work_unit(name, Data::new(), WorkUnitMeta::default())
            .unwrap();
    }
}

/// Fails `n` units of `fetch` through a worker, each with a traceback.
pub fn fail(namespace: &dyn Namespace, n: usize) {
    let worker = namespace.worker("failer").unwrap();
    let attempts = worker
        .request_attempts(&AttemptRequest {
            number_of_work_units: n,
            work_specs: vec!["fetch".into()],
            ..AttemptRequest::default()
        })
        .unwrap();
    assert_eq!(attempts.len(), n);
    for attempt in attempts {
        attempt
            .fail(Some(data("traceback", "Traceback: it broke")))
            .unwrap();
    }
}

pub fn count(namespace: &dyn Namespace, spec: &str, status: WorkUnitStatus) -> usize {
    namespace
        .work_spec(spec)
        .unwrap()
        .count_work_unit_status()
        .unwrap()
        .get(&status)
        .copied()
        .unwrap_or(0)
}
