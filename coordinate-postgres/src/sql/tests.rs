//! Checks over every statement in `sql`: parameters, quoting, the text the
//! statements share, and a snapshot of them all.

use std::collections::BTreeSet;

use super::{claim, retention, Statement, ALL};

/// What a scan of a statement's text found.
struct Scan {
    /// Parameter numbers outside quotes.
    params: BTreeSet<usize>,
    /// Text inside quotes that looks like a parameter, or quoting the
    /// parameter splitter cannot see (dollar quotes, comments).
    problems: Vec<String>,
}

/// Scans SQL the way PostgreSQL reads it, far enough to tell parameters
/// from text in literals (`'…'`) and quoted names (`"…"`).
fn scan(sql: &str) -> Scan {
    let bytes = sql.as_bytes();
    let mut found = Scan {
        params: BTreeSet::new(),
        problems: Vec::new(),
    };
    let mut quote: Option<u8> = None;
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        let digits = bytes[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        match quote {
            Some(q) if byte == q => quote = None,
            Some(_) if byte == b'$' && digits > 0 => found
                .problems
                .push(format!("parameter-like text inside quotes at byte {at}")),
            Some(_) => {}
            None if byte == b'\'' || byte == b'"' => quote = Some(byte),
            None if byte == b'$' && digits > 0 => {
                found
                    .params
                    .insert(sql[at + 1..at + 1 + digits].parse().unwrap());
                at += digits;
            }
            None if byte == b'$' => found.problems.push(format!("dollar quoting at byte {at}")),
            None if sql[at..].starts_with("--") || sql[at..].starts_with("/*") => {
                found.problems.push(format!("a comment at byte {at}"))
            }
            None => {}
        }
        at += 1;
    }
    if quote.is_some() {
        found.problems.push("an unclosed quote".into());
    }
    found
}

#[test]
fn no_parameter_stands_inside_a_literal() {
    // `prepared` splits at every `$n`: one inside a literal would be bound
    // as a parameter.
    for statement in ALL {
        let problems = scan(statement.text).problems;
        assert!(problems.is_empty(), "{}: {problems:?}", statement.name);
    }
    assert!(
        !scan("SELECT 'a$1'").problems.is_empty(),
        "the check can fail"
    );
    assert!(!scan("SELECT $$x$$").problems.is_empty());
    assert!(!scan("SELECT 1 -- $1").problems.is_empty());
    assert_eq!(
        scan("SELECT $2, 'it''s', \"C\", $10").params,
        BTreeSet::from([2, 10])
    );
}

#[test]
fn every_parameter_is_named_and_used() {
    for statement in ALL {
        for (index, param) in statement.params.iter().enumerate() {
            let prefix = format!("${} = ", index + 1);
            assert!(
                param.starts_with(&prefix),
                "{}: parameter {} is written {param:?}",
                statement.name,
                index + 1
            );
        }
        let named: BTreeSet<usize> = (1..=statement.params.len())
            .filter(|n| !statement.params[n - 1].contains("(unused"))
            .collect();
        assert_eq!(scan(statement.text).params, named, "{}", statement.name);
    }
}

#[test]
fn every_statement_is_listed() {
    let sources = [
        include_str!("claim.rs"),
        include_str!("attempt.rs"),
        include_str!("completion.rs"),
        include_str!("unit.rs"),
        include_str!("retention.rs"),
    ];
    let defined: usize = sources
        .iter()
        .map(|source| source.matches(": Statement = Statement {").count())
        .sum();
    assert_eq!(defined, ALL.len(), "sql::ALL lists every statement");
    let names: BTreeSet<&str> = ALL.iter().map(|s| s.name).collect();
    assert_eq!(names.len(), ALL.len(), "statement names are distinct");
}

/// Whitespace folded, so that layout does not matter.
fn folded(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn shared_text_stays_the_same_everywhere() {
    // What a prune deletes is what its dry run counts.
    let selection = |statement: &Statement, from: &str, to: &str| {
        let text = folded(statement.text);
        let start = text.find(from).expect("the selection");
        let end = text[start..].find(to).expect("its end") + start;
        text[start..end].to_owned()
    };
    assert_eq!(
        selection(&retention::PRUNE_UNITS, "SELECT u.id", " FOR UPDATE"),
        selection(
            &retention::COUNT_PRUNABLE_UNITS,
            "SELECT u.id",
            ") AS prunable"
        )
    );
    assert_eq!(
        selection(
            &retention::LOCK_PRUNABLE_WORKERS,
            "SELECT w.id",
            " FOR UPDATE"
        ),
        selection(
            &retention::COUNT_PRUNABLE_WORKERS,
            "SELECT w.id",
            ") AS prunable"
        )
    );
    let recheck = folded(retention::PRUNE_WORKERS.text);
    let worker_rule = "NOT w.active AND w.expiration < $2 AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.worker_id = w.id)";
    assert!(recheck.contains(worker_rule));
    assert!(folded(retention::LOCK_PRUNABLE_WORKERS.text).contains(worker_rule));

    let expiry = folded(claim::EXPIRE_OVERDUE.text);
    let ctes = expiry.trim_end_matches(" SELECT count(*) AS count FROM released");
    assert_ne!(ctes, expiry);
    assert!(folded(claim::CANDIDATES_AFTER_EXPIRY.text).starts_with(ctes));

    assert_eq!(
        folded(claim::CLAIM.text).replace("LIMIT $5", "LIMIT 1"),
        folded(claim::CLAIM_ONE.text)
    );

    let pending = folded(claim::PENDING_UNITS.text);
    let count = pending
        .trim_start_matches("SELECT ")
        .split(" AS pending")
        .next()
        .unwrap()
        .to_owned();
    for statement in [&claim::CANDIDATES_AFTER_EXPIRY, &claim::LOCKED_CANDIDATE] {
        assert!(
            folded(statement.text).contains(&count),
            "{}",
            statement.name
        );
    }

    let status = folded(
        "CASE WHEN a.status = 'pending' AND a.expiration_time >= $1 THEN 'pending'
              WHEN a.status = 'finished' THEN 'finished'
              WHEN a.status = 'failed' THEN 'failed'
              WHEN u.not_before > $1 THEN 'delayed'
              ELSE 'available' END",
    );
    let with_status: Vec<&Statement> = ALL
        .iter()
        .copied()
        .filter(|s| s.text.contains("THEN 'delayed'"))
        .collect();
    assert_eq!(with_status.len(), 6);
    for statement in with_status {
        assert!(
            folded(statement.text).contains(&status),
            "{}",
            statement.name
        );
    }
}

/// Every statement as the snapshot file holds it.
fn rendered() -> String {
    let mut out = String::new();
    for statement in ALL {
        out.push_str(&format!("-- {}\n", statement.name));
        for param in statement.params {
            out.push_str(&format!("--   {param}\n"));
        }
        out.push_str(statement.text.trim_end());
        out.push_str(";\n\n");
    }
    out
}

#[test]
fn statements_match_the_snapshot() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src/sql/statements.snapshot.txt"
    );
    let now = rendered();
    if std::env::var_os("UPDATE_SQL_SNAPSHOT").is_some() {
        std::fs::write(path, &now).unwrap();
        return;
    }
    let before = std::fs::read_to_string(path).unwrap_or_default();
    if before != now {
        let first = before
            .lines()
            .zip(now.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(before.lines().count().min(now.lines().count()));
        panic!(
            "the SQL statements changed (first at line {}): review, then run \
             with UPDATE_SQL_SNAPSHOT=1 to accept\n was: {:?}\n now: {:?}",
            first + 1,
            before.lines().nth(first),
            now.lines().nth(first)
        );
    }
}

/// Statements that can make a unit available: each must wake the
/// namespace's waiters in its own transaction (`wait_for_work` may not
/// miss a unit).
const FREES_UNITS: &[&str] = &[
    "EXPIRE_OVERDUE",
    "CANDIDATES_AFTER_EXPIRY",
    "RELEASE_UNIT",
    "RELEASE_AND_DELAY_UNIT",
    "RELEASE_BATCH",
    "UPSERT_UNITS",
    "CLEAR_ACTIVE_ATTEMPT",
];

/// Statements that write units without making any available.
const KEEPS_UNITS_TAKEN: &[&str] = &[
    "CLAIM",
    "CLAIM_ONE",
    "CONTINUOUS_UNIT",
    "INSERT_ATTEMPT",
    "SET_UNIT_PRIORITIES",
    "ADJUST_UNIT_PRIORITIES",
];

#[test]
fn every_statement_that_frees_units_wakes_waiters() {
    for statement in ALL {
        let text = statement.text;
        let writes_units =
            text.contains("UPDATE work_unit") || text.contains("INSERT INTO work_unit");
        let frees = FREES_UNITS.contains(&statement.name);
        if writes_units {
            assert!(
                frees || KEEPS_UNITS_TAKEN.contains(&statement.name),
                "{} writes work units: say in FREES_UNITS or KEEPS_UNITS_TAKEN whether it can make one available",
                statement.name
            );
        }
        if frees {
            assert!(
                text.contains("pg_notify('coordinate_work'"),
                "{} can make units available but wakes no waiter",
                statement.name
            );
        }
    }
    for name in FREES_UNITS.iter().chain(KEEPS_UNITS_TAKEN) {
        assert!(
            ALL.iter().any(|s| s.name == *name),
            "{name} is not a statement"
        );
    }
}
