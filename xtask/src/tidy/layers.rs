//! The layers of `coordinate-postgres/src`, checked: every module belongs
//! to a layer, imports only from its own layer or those below, and no
//! modules import one another in a loop, except the five handles, which
//! return one another as `coordinate-api`'s traits do.
//!
//! Imports are read from the text: every `crate::a::b` path outside test
//! code, resolved to the longest module file it names. Test code (files
//! called `tests.rs`, and what follows `#[cfg(test)] mod tests`) may reach
//! `test_support`, which sits at the top because it builds coordinates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{read, report, root, rust_files};

/// Layers bottom first, each with the module paths (relative to `src/`,
/// without `.rs`) that make it up; a folder's module file and everything
/// under the folder belong to the folder's layer.
const LAYERS: &[(&str, &[&str])] = &[
    ("tables and statements", &["schema", "sql"]),
    ("connections, transactions, errors, migrations", &["db"]),
    ("claiming work", &["claim"]),
    ("handles", &["handle"]),
    (
        "entry point",
        &[
            "builder",
            "coordinate",
            "in_transaction",
            "lib",
            "test_support",
            "transactional_handler",
        ],
    ),
];

/// The handles: the one set of modules allowed to import one another.
const HANDLES: &[&str] = &[
    "handle/attempt",
    "handle/namespace",
    "handle/work_spec",
    "handle/work_unit",
    "handle/worker",
];

/// A module's path relative to `src/`: `db/shared`, `lib`, `sql`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("a file under src/");
    let path = relative
        .with_extension("")
        .to_string_lossy()
        .replace('\\', "/");
    path.strip_suffix("/mod")
        .map_or(path.clone(), str::to_owned)
}

/// The layer index of `module`, if it is in one.
fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, roots)| {
        roots
            .iter()
            .any(|root| module == *root || module.starts_with(&format!("{root}/")))
    })
}

/// The code of a file that counts for layering: none for a test file, and
/// everything before its test module otherwise.
fn production_code(file: &Path, text: &str) -> Option<String> {
    let name = file.file_name()?.to_str()?;
    if name == "tests.rs" {
        return None;
    }
    Some(match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_owned(),
        None => text.to_owned(),
    })
}

/// The modules a file's code names through `crate::` paths (including
/// every item of a `crate::a::{b, c::d}` group).
fn imports(code: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let mut paths = vec![path.trim_end_matches(':').to_owned()];
        if let Some(group) = rest[path.len()..].strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            paths = inner
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| format!("{}{item}", path))
                .collect();
        }
        for path in paths {
            let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
            let target = (1..=parts.len())
                .rev()
                .map(|n| parts[..n].join("/"))
                .find(|module| modules.contains(module));
            if let Some(target) = target {
                found.insert(target);
            }
        }
    }
    found
}

/// The import graph of `coordinate-postgres/src` (the `bin/` command uses
/// the public API only and is left out).
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = root().join("coordinate-postgres/src");
    let files: Vec<_> = rust_files(&src)
        .into_iter()
        .filter(|file| !file.starts_with(src.join("bin")))
        .collect();
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut graph = BTreeMap::new();
    for file in &files {
        let module = module_of(&src, file);
        let mut targets = production_code(file, &read(file))
            .map(|code| imports(&code, &modules))
            .unwrap_or_default();
        targets.remove(&module);
        graph.insert(module, targets);
    }
    graph
}

/// The modules reachable from `start` (not counting `start` itself unless
/// a path leads back to it).
fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, start: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&String> = graph[start].iter().collect();
    while let Some(module) = todo.pop() {
        if seen.insert(module.clone()) {
            todo.extend(graph.get(module).into_iter().flatten());
        }
    }
    seen
}

#[test]
fn every_module_of_the_postgres_crate_is_in_a_layer() {
    let problems: Vec<String> = import_graph()
        .keys()
        .filter(|module| layer_of(module).is_none())
        .map(|module| {
            format!(
                "coordinate-postgres/src/{module}.rs is in no layer: move it into the folder \
                 of its layer, or name it in LAYERS (xtask/src/tidy/layers.rs)"
            )
        })
        .collect();
    report("layers of coordinate-postgres", &problems);
}

#[test]
fn no_module_of_the_postgres_crate_imports_a_higher_layer() {
    let mut problems = Vec::new();
    for (module, targets) in import_graph() {
        let Some(layer) = layer_of(&module) else {
            continue;
        };
        for target in targets {
            if let Some(higher) = layer_of(&target).filter(|l| *l > layer) {
                problems.push(format!(
                    "{module} ({}) imports {target} ({}): move what it needs down, or the \
                     module up",
                    LAYERS[layer].0, LAYERS[higher].0
                ));
            }
        }
    }
    report("imports from a higher layer", &problems);
}

#[test]
fn only_the_handles_import_each_other_in_loops() {
    let graph = import_graph();
    let problems: Vec<String> = graph
        .keys()
        .filter(|module| !HANDLES.contains(&module.as_str()))
        .filter(|module| reachable(&graph, module).contains(*module))
        .map(|module| format!("{module} imports itself through a loop of imports"))
        .collect();
    report("import loops", &problems);
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let modules: BTreeSet<String> = ["db/shared", "db/error", "handle/worker", "sql"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    let code = "use crate::db::shared::Shared;\nuse crate::db::{error::connect, shared};\n\
                fn f() { crate::sql::unit::WAKE; crate::handle::worker::PgWorker::new(); }";
    let found: Vec<String> = imports(code, &modules).into_iter().collect();
    assert_eq!(found, ["db/error", "db/shared", "handle/worker", "sql"]);
    assert_eq!(layer_of("db"), Some(1));
    assert_eq!(layer_of("db/transaction/tests"), Some(1));
    assert_eq!(layer_of("dbx"), None);
    assert_eq!(
        production_code(Path::new("a.rs"), "x\n#[cfg(test)]\nmod tests {}"),
        Some("x\n".to_owned())
    );
}
