//! The `coordinate` operator command pointed at a `coordinated` server
//! instead of a database: `-d http://…` (and a token in the URL's
//! password) reaches the same store the server serves.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use coordinate_api::{Coordinate, Data, Value, WorkUnitStatus};
use coordinate_rest::RestCoordinate;

/// The `coordinate` command, built beside this test by the workspace's
/// test build (coordinate-postgres's tests need it with its `cli`
/// feature). Missing, the test fails and says how to build it.
fn coordinate_command() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let command = profile_dir.join("coordinate");
    assert!(
        command.is_file(),
        "{} is missing: build it with `cargo build -p coordinate-postgres --features cli` \
         (cargo xtask conformance builds it with the workspace's tests)",
        command.display()
    );
    command
}

fn run(url: &str, args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(coordinate_command())
        .arg("-d")
        .arg(url)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the coordinate command");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("the command's output")
}

#[test]
fn the_command_works_through_a_server_with_its_token() {
    let dir = common::scratch("cli-token");
    let token_file = dir.join("token");
    std::fs::write(&token_file, "cli-s3cret\n").expect("token file");
    let server = common::Server::memory(&["--token-file", token_file.to_str().expect("UTF-8")]);
    let url = format!("http://operator:cli-s3cret@127.0.0.1:{}", server.port);

    let client = RestCoordinate::builder(&url).build().expect("client");
    let namespace = client.namespace("ops").expect("namespace");
    let mut definition = Data::new();
    definition.insert("name".into(), Value::Text("fetch".into()));
    let spec = namespace.set_work_spec(definition).expect("spec");

    let added = run(
        &url,
        &["-n", "ops", "add", "fetch", "-"],
        "{\"name\": \"u1\"}\n{\"name\": \"u2\"}\n",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert_eq!(
        spec.work_unit("u2")
            .expect("added")
            .status()
            .expect("status"),
        WorkUnitStatus::Available
    );

    let units = run(&url, &["-n", "ops", "--json", "units", "fetch"], "");
    let stdout = String::from_utf8_lossy(&units.stdout);
    assert!(
        units.status.success() && stdout.contains("u1") && stdout.contains("u2"),
        "{stdout}"
    );

    // A wrong token is refused, and the token never shows.
    let refused = run(
        &format!("http://operator:wrong-token@127.0.0.1:{}", server.port),
        &["-n", "ops", "summary"],
        "",
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !stderr.contains("wrong-token") && !stderr.contains("cli-s3cret"),
        "{stderr}"
    );

    // The schema is the database's business, not a client's.
    let migrate = run(&url, &["migrate"], "");
    assert_eq!(migrate.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&migrate.stderr).contains("not a coordinated server"));
}
