//! Every route has a golden step: each method of each path in the route
//! table of `src/routes/mod.rs` is answered with success in at least one
//! scenario.
//!
//! axum's router does not list its routes, so the table is read from the
//! source: the file's path constants, string literals and its
//! `at(BASE, REST)` helper make each `.route(PATH, METHODS)` of `api()`.
//! Reading source could go wrong quietly, so the reading is checked
//! against the router itself: every method read is served on its path,
//! and every other method is a 405 there. A form of entry the reader does
//! not know fails loudly rather than being skipped.

use std::collections::{BTreeMap, BTreeSet};

use super::in_process::InProcess;
use super::T0;

/// The routes' source, as the server is built from it.
const ROUTES: &str = include_str!("../../src/routes/mod.rs");

/// The methods a path may answer; the method routers of the same names
/// (`get(…)`, `.post(…)`) are what the reader looks for.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/// (method, path template) for every route of the table.
fn route_table() -> BTreeSet<(String, String)> {
    let constants = path_constants(ROUTES);
    let api = &ROUTES[ROUTES.find("pub fn api()").expect("routes::api")..];
    let mut table = BTreeSet::new();
    for (at, _) in api.match_indices(".route(") {
        let arguments = balanced(&api[at + ".route(".len()..]);
        let (path, methods) = split_top_level(arguments)
            .unwrap_or_else(|| panic!("a route without its methods: {arguments}"));
        let template = resolve(path.trim(), &constants);
        let methods = method_routers(methods);
        assert!(!methods.is_empty(), "no method router in {arguments}");
        for method in methods {
            assert!(
                table.insert((method.clone(), template.clone())),
                "{method} {template} is routed twice"
            );
        }
    }
    assert!(!table.is_empty(), "no routes read from src/routes/mod.rs");
    table
}

/// The file's `const NAME: &str = "…";` items.
fn path_constants(source: &str) -> BTreeMap<&str, String> {
    let mut constants = BTreeMap::new();
    for (at, _) in source.match_indices("\nconst ") {
        let item = &source[at + "\nconst ".len()..];
        let item = &item[..item.find(';').expect("a constant ends with ;")];
        let (name, value) = item.split_once(':').expect("a typed constant");
        let value = &value[value.find('=').expect("a constant's value")..];
        constants.insert(name.trim(), literal(value.trim_start_matches('=').trim()));
    }
    constants
}

/// The text of a string literal without escapes (paths need none).
fn literal(text: &str) -> String {
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or_else(|| panic!("not a plain string literal: {text}"));
    assert!(!inner.contains(['\\', '"']), "an escaped literal: {text}");
    inner.to_owned()
}

/// `text` up to the parenthesis that closes the one just opened.
fn balanced(text: &str) -> &str {
    let mut depth = 0;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return &text[..at],
            ')' => depth -= 1,
            _ => {}
        }
    }
    panic!("unbalanced parentheses: {text}");
}

/// `text` split at its first comma outside parentheses.
fn split_top_level(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => return Some((&text[..at], &text[at + 1..])),
            _ => {}
        }
    }
    None
}

/// A route's path: a literal, a path constant, or `&at(BASE, "REST")`.
fn resolve(path: &str, constants: &BTreeMap<&str, String>) -> String {
    if path.starts_with('"') {
        return literal(path);
    }
    if let Some(value) = constants.get(path) {
        return value.clone();
    }
    if let Some(arguments) = path.strip_prefix("&at(").and_then(|p| p.strip_suffix(')')) {
        let (base, rest) = split_top_level(arguments).expect("at(BASE, REST)");
        return resolve(base.trim(), constants) + &resolve(rest.trim(), constants);
    }
    panic!(
        "route path {path:?}: this test reads literals, constants and at(…); teach it this form"
    );
}

/// The methods of a method router expression (`get(h).post(h2)`): each
/// method name called as a function, not a handler path like `x::get`.
fn method_routers(expression: &str) -> BTreeSet<String> {
    assert!(
        !expression.contains("any(") && !expression.contains("on("),
        "a method router this test does not read: {expression}"
    );
    let mut found = BTreeSet::new();
    for method in METHODS {
        let call = format!("{}(", method.to_lowercase());
        for (at, _) in expression.match_indices(&call) {
            let before = expression[..at].chars().next_back();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                found.insert(method.to_owned());
            }
        }
    }
    found
}

/// A concrete path for a template: names for its variables.
fn instantiate(template: &str) -> String {
    let path = template
        .replace("{namespace}", "ns")
        .replace("{spec}", "spec")
        .replace("{unit}", "u")
        .replace("{worker}", "w")
        .replace("{start}", T0);
    assert!(
        !path.contains('{'),
        "a template variable this test does not fill: {template}"
    );
    path
}

#[tokio::test]
async fn the_route_table_is_read_as_the_router_serves_it() {
    let table = route_table();
    let templates: BTreeSet<&String> = table.iter().map(|(_, template)| template).collect();
    // A scratch server: what the probes do to its store does not matter.
    let server = InProcess::new("");
    let mut wrong = Vec::new();
    for template in templates {
        let path = instantiate(template);
        for method in METHODS {
            let routed = table.contains(&(method.to_owned(), template.clone()));
            let answer = server.send(method, &path, None).await;
            let message = answer.body["message"].as_str().unwrap_or("");
            let served = answer.status != 405 && !message.starts_with("no resource at");
            if served != routed {
                wrong.push(format!(
                    "{method} {template}: table says {routed}, got {answer:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn every_route_has_a_golden_step() {
    let table = route_table();
    let mut pinned = BTreeSet::new();
    let mut unknown = Vec::new();
    for (name, scenario) in super::scenarios() {
        let server = scenario().await;
        for (method, route, status) in server.routes_answered().await {
            let key = (method, route);
            // A 405 carries the template of the path it matched, with the
            // method the path lacks: a refusal pinned, not a route.
            if status != 405 && !table.contains(&key) {
                unknown.push(format!("{name}: {} {}", key.0, key.1));
            }
            if status < 400 {
                pinned.insert(key);
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "routes outside the table:\n{}",
        unknown.join("\n")
    );
    let missing: Vec<String> = table
        .difference(&pinned)
        .map(|(method, template)| format!("{method} {template}"))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a golden step answered with success:\n{}",
        missing.join("\n")
    );
}
