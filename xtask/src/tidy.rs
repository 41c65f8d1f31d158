//! Tidy checks: rules of the layout and the code that no compiler checks,
//! run as tests by `cargo xtask conformance` (rust-analyzer's
//! `xtask/src/tidy.rs` is the model). Each failure names the file and the
//! offender, and says what to change.
//!
//! That `coordinate-postgres/src/schema.rs` matches the migrations needs a
//! server, so it is a test of that crate (`tests/store/schema.rs`); the check
//! here only makes sure that test stays.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::workspace_root as root;

// The layers of coordinate-postgres/src and their imports.
mod layers;

/// What the design puts at the top of the repository, besides a licence
/// file and dot-folders and dot-files (`.github`, `.ci`, `.cargo`, …).
const TOP_LEVEL: &[&str] = &[
    "Cargo.toml",
    "Cargo.lock",
    "README.md",
    "coordinate-api",
    "coordinate-conformance",
    "coordinate-memory",
    "coordinate-postgres",
    "xtask",
    ".github",
];

/// SQL keywords that mark a `format!` string as a statement.
const SQL_KEYWORDS: &[&str] = &["SELECT", "INSERT", "UPDATE", "DELETE", "WHERE"];

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Fails with every problem of one rule, one per line.
fn report(rule: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "tidy: {rule}:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn the_top_level_holds_only_what_the_design_names() {
    let output = Command::new("git")
        .arg("-C")
        .arg(root())
        .args(["ls-files", "--cached"])
        .output()
        .expect("running git ls-files (the check reads what git tracks)");
    assert!(output.status.success(), "git ls-files failed: {output:?}");
    let tracked: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|path| path.split('/').next())
        .map(str::to_owned)
        .collect();
    let licence = |name: &str| name.starts_with("LICENSE") || name.starts_with("LICENCE");
    let mut problems: Vec<String> = tracked
        .iter()
        .filter(|name| !TOP_LEVEL.contains(&name.as_str()))
        .filter(|name| !name.starts_with('.') && !licence(name))
        .map(|name| {
            format!(
                "`{name}` is at the top level, which the design keeps to {TOP_LEVEL:?}: \
                 move a tool under xtask/ or code into one of the crates"
            )
        })
        .collect();
    problems.extend(
        TOP_LEVEL
            .iter()
            .filter(|name| !tracked.contains(**name))
            .map(|name| format!("`{name}` is missing from the top level")),
    );
    report("the top level", &problems);
}

#[test]
fn internal_dev_dependencies_carry_no_version() {
    let root = root();
    let workspace: toml::Table = read(&root.join("Cargo.toml")).parse().expect("Cargo.toml");
    let shared = &workspace["workspace"]["dependencies"];
    let members: Vec<String> = workspace["workspace"]["members"]
        .as_array()
        .expect("workspace.members")
        .iter()
        .filter_map(|m| m.as_str().map(str::to_owned))
        .collect();
    let manifests: Vec<(String, toml::Table)> = members
        .iter()
        .map(|member| {
            let path = format!("{member}/Cargo.toml");
            let table = read(&root.join(&path))
                .parse()
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            (path, table)
        })
        .collect();
    let internal: BTreeSet<&str> = manifests
        .iter()
        .filter_map(|(_, t)| t.get("package")?.get("name")?.as_str())
        .collect();
    assert!(internal.len() >= 6, "found only {internal:?}");

    let mut problems = Vec::new();
    for (path, manifest) in &manifests {
        // `[dev-dependencies]` and `[target.'cfg(…)'.dev-dependencies]`.
        let targets = manifest.get("target").and_then(|t| t.as_table());
        let sections = std::iter::once(manifest.get("dev-dependencies"))
            .chain(
                targets
                    .into_iter()
                    .flatten()
                    .map(|(_, t)| t.get("dev-dependencies")),
            )
            .flatten()
            .filter_map(|s| s.as_table());
        for (key, spec) in sections.flatten() {
            let name = spec.get("package").and_then(|p| p.as_str()).unwrap_or(key);
            if !internal.contains(name) {
                continue;
            }
            let through_workspace = spec.get("workspace").and_then(|w| w.as_bool()) == Some(true);
            let versioned = if through_workspace {
                shared.get(key).is_some_and(|s| s.get("version").is_some())
            } else {
                spec.is_str() || spec.get("version").is_some()
            };
            if versioned {
                problems.push(format!(
                    "{path}: dev-dependency `{key}` carries a version{}: name it by \
                     path only (`{key} = {{ path = \"…\" }}`) so that cargo publish drops it",
                    if through_workspace {
                        " (through [workspace.dependencies])"
                    } else {
                        ""
                    }
                ));
            }
        }
    }
    report("dev-dependencies on the workspace's own crates", &problems);
}

#[test]
fn backends_build_on_the_api_without_its_runtime() {
    let root = root();
    let workspace: toml::Table = read(&root.join("Cargo.toml")).parse().expect("Cargo.toml");
    let shared = &workspace["workspace"]["dependencies"]["coordinate-api"];
    let mut problems = Vec::new();
    if shared.get("default-features").and_then(|d| d.as_bool()) != Some(false) {
        problems.push(
            "Cargo.toml: [workspace.dependencies] coordinate-api needs default-features = false, \
             or every member gets the runtime"
                .to_owned(),
        );
    }
    for backend in [
        "coordinate-memory",
        "coordinate-postgres",
        "coordinate-conformance",
    ] {
        let path = format!("{backend}/Cargo.toml");
        let manifest: toml::Table = read(&root.join(&path)).parse().expect("a manifest");
        let spec = &manifest["dependencies"]["coordinate-api"];
        let features = spec.get("features").and_then(|f| f.as_array());
        if features.is_some_and(|f| {
            f.iter()
                .any(|f| matches!(f.as_str(), Some("runtime" | "signals")))
        }) || spec.get("default-features").and_then(|d| d.as_bool()) == Some(true)
        {
            problems.push(format!(
                "{path}: its [dependencies] turn on coordinate-api's runtime; a backend needs \
                 the contract only (examples and tests may use it as dev-dependencies)"
            ));
        }
    }
    report("backends and the runtime", &problems);
}

/// `module::case` for every free `pub fn case(backend: Backend…)` under
/// `coordinate-conformance/src`, with the file it is in.
fn source_cases(src: &Path) -> Vec<(String, String)> {
    let mut cases = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(src)
        .expect("coordinate-conformance/src")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    for file in files {
        let module = file.file_stem().expect("a file name").to_string_lossy();
        let text = read(&file);
        // Free functions only: a line that starts with `pub fn`.
        for (at, _) in text.match_indices("\npub fn ") {
            let rest = &text[at + "\npub fn ".len()..];
            let Some((name, after)) = rest.split_once('(') else {
                continue;
            };
            let params: String = after
                .split(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            if params.starts_with("backend:Backend") {
                let shown = format!("coordinate-conformance/src/{module}.rs");
                cases.push((format!("{module}::{}", name.trim()), shown));
            }
        }
    }
    cases
}

/// `module::case` for every entry of the `__for_each_case!` list.
fn macro_cases(lib: &str) -> Vec<String> {
    let start = lib
        .find("macro_rules! __for_each_case")
        .expect("coordinate-conformance/src/lib.rs defines __for_each_case!");
    let list = lib[start..]
        .split_once("__expand_cases! {")
        .expect("__for_each_case! expands __expand_cases!")
        .1;
    let mut cases = Vec::new();
    let mut module: Option<&str> = None;
    for line in list.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") || line.starts_with('$') {
            continue;
        }
        if let Some(name) = line.strip_suffix(" {") {
            module = Some(name);
        } else if line == "}" {
            if module.take().is_none() {
                break;
            }
        } else if let (Some(module), Some(case)) = (module, line.strip_suffix(',')) {
            cases.push(format!("{module}::{case}"));
        }
    }
    cases
}

#[test]
fn every_conformance_case_is_run_and_documented() {
    let crate_dir = root().join("coordinate-conformance");
    let source = source_cases(&crate_dir.join("src"));
    let listed = macro_cases(&read(&crate_dir.join("src/lib.rs")));
    let cases_md = read(&crate_dir.join("CASES.md"));
    let documented: Vec<&str> = cases_md
        .lines()
        .filter_map(|line| line.strip_prefix("- `")?.split('`').next())
        .collect();
    // A parser that found nothing would let everything pass.
    assert!(
        source.len() >= 80 && listed.len() >= 80,
        "found too few cases"
    );

    let names: BTreeSet<&str> = source.iter().map(|(case, _)| case.as_str()).collect();
    let mut problems = Vec::new();
    for (case, file) in &source {
        let module = case.split("::").next().unwrap_or(case);
        if !listed.contains(case) {
            problems.push(format!(
                "{file}: case `{case}` is not listed under `{module}` in __for_each_case! \
                 (coordinate-conformance/src/lib.rs), so no backend runs it"
            ));
        }
        if !documented.contains(&case.as_str()) {
            problems.push(format!(
                "{file}: case `{case}` is not described in coordinate-conformance/CASES.md"
            ));
        }
    }
    for case in listed.iter().filter(|c| !names.contains(c.as_str())) {
        problems.push(format!(
            "__for_each_case! lists `{case}`, which is no `pub fn {case}(backend: Backend)`"
        ));
    }
    let mut seen = BTreeSet::new();
    for case in &documented {
        if !names.contains(case) {
            problems.push(format!(
                "coordinate-conformance/CASES.md describes `{case}`, which is no case"
            ));
        }
        if !seen.insert(case) {
            problems.push(format!(
                "coordinate-conformance/CASES.md describes `{case}` twice"
            ));
        }
    }
    report("conformance cases", &problems);
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The text of the string literal that `code` starts with (after
/// whitespace): plain or raw, escapes left as they are.
fn leading_literal(code: &str) -> Option<&str> {
    let code = code.trim_start();
    if let Some(raw) = code.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let body = raw[hashes..].strip_prefix('"')?;
        let end = body.find(&format!("\"{}", "#".repeat(hashes)))?;
        return Some(&body[..end]);
    }
    let body = code.strip_prefix('"')?;
    let mut escaped = false;
    for (at, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(&body[..at]),
            _ => escaped = false,
        }
    }
    None
}

/// The SQL keyword in `text`, as a whole word, if any.
fn sql_keyword(text: &str) -> Option<&'static str> {
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .find_map(|word| SQL_KEYWORDS.iter().find(|k| **k == word).copied())
}

/// `file:line: keyword` for each `format!` whose string holds SQL, in the
/// code of `text` outside its test module (tests format the names of the
/// tables they make, never values).
fn formatted_sql(text: &str) -> Vec<(usize, &'static str)> {
    let code = text
        .match_indices("#[cfg(test)]")
        .find(|(at, attribute)| {
            text[at + attribute.len()..]
                .trim_start()
                .starts_with("mod ")
        })
        .map_or(text, |(at, _)| &text[..at]);
    code.match_indices("format!(")
        .filter_map(|(at, call)| {
            let keyword = sql_keyword(leading_literal(&code[at + call.len()..])?)?;
            Some((code[..at].matches('\n').count() + 1, keyword))
        })
        .collect()
}

#[test]
fn no_format_builds_sql_in_the_published_crates() {
    let root = root();
    let mut problems = Vec::new();
    let mut scanned = 0;
    for krate in [
        "coordinate-api",
        "coordinate-memory",
        "coordinate-postgres",
        "coordinate-conformance",
    ] {
        for file in rust_files(&root.join(krate).join("src")) {
            // `#[cfg(test)] mod tests;` files hold tests only.
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            scanned += 1;
            let shown = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            for (line, keyword) in formatted_sql(&read(&file)) {
                problems.push(format!(
                    "{shown}:{line}: format! builds SQL ({keyword} …): write the statement \
                     whole in coordinate-postgres/src/sql/ and bind its values"
                ));
            }
        }
    }
    assert!(scanned > 20, "scanned only {scanned} files");
    report("SQL built with format!", &problems);
}

#[test]
fn format_detection_sees_sql_and_nothing_else() {
    let library = "fn f() { sql_query(format!(\"SELECT * FROM t WHERE id = {id}\")); }\n\
                   fn g() { format!(r#\"DELETE FROM \"t\"\"#); format!(\"unknown status {name:?}\"); }\n";
    assert_eq!(formatted_sql(library), [(1, "SELECT"), (2, "DELETE")]);
    let tests =
        "fn f() {}\n#[cfg(test)]\nmod tests { fn t() { format!(\"UPDATE {t} SET a = 1\"); } }\n";
    assert_eq!(formatted_sql(tests), []);
}

#[test]
fn schema_rs_is_checked_against_the_migrations() {
    let test = root().join("coordinate-postgres/tests/store/schema.rs");
    let text = std::fs::read_to_string(&test).unwrap_or_default();
    assert!(
        text.contains("fn schema_rs_matches_the_migrations()"),
        "tidy: {} must keep its test schema_rs_matches_the_migrations, which compares \
         src/schema.rs with the migrated database",
        test.display()
    );
}
