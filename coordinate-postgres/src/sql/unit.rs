//! Statements on work units, names and summaries.
//!
//! Several statements compute a unit's status in SQL, over `work_unit u
//! LEFT JOIN attempt a ON a.id = u.active_attempt_id` with `$1` the time.
//! That `CASE` must agree with
//! `coordinate_api::status::derive_work_unit_status`; a pending attempt
//! past its expiration counts as expired even before expiry has run, so
//! reads that do not write (summaries across namespaces) agree with those
//! that expire first. A test checks every statement spells it the same.

use super::Statement;

/// Adds units to a work spec, or replaces the data and meta of units of
/// the same name and clears their active attempts, in one statement. The
/// names must be distinct (a statement may not touch a row twice). Wakes
/// the namespace's waiting workers; when a unit was replaced (`xmax` is
/// set on an updated row, not on an inserted one) it also tells the
/// runtimes that may hold it (the `cancel <namespace id>` payload of
/// `db::listener::Event`).
pub(crate) const UPSERT_UNITS: Statement = Statement {
    name: "UPSERT_UNITS",
    params: &[
        "$1 = work spec id",
        "$2 = unit names",
        "$3 = unit data",
        "$4 = unit priorities",
        "$5 = unit not-before times",
    ],
    text: "\
INSERT INTO work_unit (work_spec_id, name, data, priority, not_before)
SELECT $1, t.name, t.data, t.priority, t.not_before
  FROM unnest($2::bytea[], $3::bytea[], $4::float8[], $5::timestamptz[])
       AS t (name, data, priority, not_before)
ON CONFLICT (work_spec_id, name) DO UPDATE
   SET data = EXCLUDED.data, priority = EXCLUDED.priority,
       not_before = EXCLUDED.not_before, active_attempt_id = NULL
RETURNING id, name,
          pg_notify('coordinate_work', (SELECT namespace_id FROM work_spec WHERE id = $1)::text) AS woke,
          CASE WHEN work_unit.xmax <> 0
               THEN pg_notify('coordinate_work',
                              'cancel ' || (SELECT namespace_id FROM work_spec WHERE id = $1)::text)
          END AS took",
};

/// Clears a unit's active attempt (`WorkUnit::clear_active_attempt`);
/// the unit may be available now, so the namespace's waiters are woken.
pub(crate) const CLEAR_ACTIVE_ATTEMPT: Statement = Statement {
    name: "CLEAR_ACTIVE_ATTEMPT",
    params: &["$1 = work unit id"],
    text: "\
UPDATE work_unit SET active_attempt_id = NULL WHERE id = $1
RETURNING pg_notify('coordinate_work', (SELECT namespace_id FROM work_spec WHERE id = work_unit.work_spec_id)::text)",
};

/// The parameters of a `WorkUnitQuery` selection, shared by the four
/// statements below.
const SELECTION_PARAMS: [&str; 6] = [
    "$1 = now",
    "$2 = work spec id",
    "$3 = unit names (all if empty)",
    "$4 = unit statuses (all if empty)",
    "$5 = only names after this one (if not NULL)",
    "$6 = most units (all if NULL)",
];

/// The units a `WorkUnitQuery` selects, in name order.
pub(crate) const SELECT_UNITS: Statement = Statement {
    name: "SELECT_UNITS",
    params: &SELECTION_PARAMS,
    text: "\
SELECT u.id, u.name
  FROM work_unit u LEFT JOIN attempt a ON a.id = u.active_attempt_id
 WHERE u.work_spec_id = $2
   AND (cardinality($3::bytea[]) = 0 OR u.name = ANY($3))
   AND (cardinality($4::text[]) = 0 OR (
        CASE WHEN a.status = 'pending' AND a.expiration_time >= $1 THEN 'pending'
             WHEN a.status = 'finished' THEN 'finished'
             WHEN a.status = 'failed' THEN 'failed'
             WHEN u.not_before > $1 THEN 'delayed'
             ELSE 'available' END) = ANY($4))
   AND ($5::bytea IS NULL OR u.name > $5)
 ORDER BY u.name LIMIT $6",
};

/// Sets the priority of the units [`SELECT_UNITS`] selects.
pub(crate) const SET_UNIT_PRIORITIES: Statement = Statement {
    name: "SET_UNIT_PRIORITIES",
    params: &[
        SELECTION_PARAMS[0],
        SELECTION_PARAMS[1],
        SELECTION_PARAMS[2],
        SELECTION_PARAMS[3],
        SELECTION_PARAMS[4],
        SELECTION_PARAMS[5],
        "$7 = new priority",
    ],
    text: "\
UPDATE work_unit SET priority = $7 WHERE id IN (
SELECT u.id
  FROM work_unit u LEFT JOIN attempt a ON a.id = u.active_attempt_id
 WHERE u.work_spec_id = $2
   AND (cardinality($3::bytea[]) = 0 OR u.name = ANY($3))
   AND (cardinality($4::text[]) = 0 OR (
        CASE WHEN a.status = 'pending' AND a.expiration_time >= $1 THEN 'pending'
             WHEN a.status = 'finished' THEN 'finished'
             WHEN a.status = 'failed' THEN 'failed'
             WHEN u.not_before > $1 THEN 'delayed'
             ELSE 'available' END) = ANY($4))
   AND ($5::bytea IS NULL OR u.name > $5)
 ORDER BY u.name LIMIT $6)",
};

/// Adds to the priority of the units [`SELECT_UNITS`] selects.
pub(crate) const ADJUST_UNIT_PRIORITIES: Statement = Statement {
    name: "ADJUST_UNIT_PRIORITIES",
    params: &[
        SELECTION_PARAMS[0],
        SELECTION_PARAMS[1],
        SELECTION_PARAMS[2],
        SELECTION_PARAMS[3],
        SELECTION_PARAMS[4],
        SELECTION_PARAMS[5],
        "$7 = priority adjustment",
    ],
    text: "\
UPDATE work_unit SET priority = priority + $7 WHERE id IN (
SELECT u.id
  FROM work_unit u LEFT JOIN attempt a ON a.id = u.active_attempt_id
 WHERE u.work_spec_id = $2
   AND (cardinality($3::bytea[]) = 0 OR u.name = ANY($3))
   AND (cardinality($4::text[]) = 0 OR (
        CASE WHEN a.status = 'pending' AND a.expiration_time >= $1 THEN 'pending'
             WHEN a.status = 'finished' THEN 'finished'
             WHEN a.status = 'failed' THEN 'failed'
             WHEN u.not_before > $1 THEN 'delayed'
             ELSE 'available' END) = ANY($4))
   AND ($5::bytea IS NULL OR u.name > $5)
 ORDER BY u.name LIMIT $6)",
};

/// Deletes the units [`SELECT_UNITS`] selects and returns them.
pub(crate) const DELETE_UNITS: Statement = Statement {
    name: "DELETE_UNITS",
    params: &SELECTION_PARAMS,
    text: "\
DELETE FROM work_unit WHERE id IN (
SELECT u.id
  FROM work_unit u LEFT JOIN attempt a ON a.id = u.active_attempt_id
 WHERE u.work_spec_id = $2
   AND (cardinality($3::bytea[]) = 0 OR u.name = ANY($3))
   AND (cardinality($4::text[]) = 0 OR (
        CASE WHEN a.status = 'pending' AND a.expiration_time >= $1 THEN 'pending'
             WHEN a.status = 'finished' THEN 'finished'
             WHEN a.status = 'failed' THEN 'failed'
             WHEN u.not_before > $1 THEN 'delayed'
             ELSE 'available' END) = ANY($4))
   AND ($5::bytea IS NULL OR u.name > $5)
 ORDER BY u.name LIMIT $6)
RETURNING id, name",
};

/// Unit counts per namespace, work spec and status, over every namespace.
pub(crate) const SUMMARY_ALL: Statement = Statement {
    name: "SUMMARY_ALL",
    params: &["$1 = now"],
    text: "\
SELECT n.name AS namespace, s.name AS work_spec,
       CASE WHEN a.status = 'pending' AND a.expiration_time >= $1 THEN 'pending'
            WHEN a.status = 'finished' THEN 'finished'
            WHEN a.status = 'failed' THEN 'failed'
            WHEN u.not_before > $1 THEN 'delayed'
            ELSE 'available' END AS status,
       count(*) AS count
  FROM work_unit u
  JOIN work_spec s ON s.id = u.work_spec_id
  JOIN namespace n ON n.id = s.namespace_id
  LEFT JOIN attempt a ON a.id = u.active_attempt_id
 GROUP BY 1, 2, 3",
};

/// [`SUMMARY_ALL`] for the given work specs. The ids come as a constant
/// array, so PostgreSQL plans with the statistics of exactly those specs.
pub(crate) const SUMMARY_OF_SPECS: Statement = Statement {
    name: "SUMMARY_OF_SPECS",
    params: &["$1 = now", "$2 = work spec ids"],
    text: "\
SELECT n.name AS namespace, s.name AS work_spec,
       CASE WHEN a.status = 'pending' AND a.expiration_time >= $1 THEN 'pending'
            WHEN a.status = 'finished' THEN 'finished'
            WHEN a.status = 'failed' THEN 'failed'
            WHEN u.not_before > $1 THEN 'delayed'
            ELSE 'available' END AS status,
       count(*) AS count
  FROM work_unit u
  JOIN work_spec s ON s.id = u.work_spec_id
  JOIN namespace n ON n.id = s.namespace_id
  LEFT JOIN attempt a ON a.id = u.active_attempt_id
 WHERE u.work_spec_id = ANY ($2)
 GROUP BY 1, 2, 3",
};

// Names sort by their bytes, as the memory backend sorts (`COLLATE "C"`):
// the database's default collation differs between servers.

/// Every namespace, by name.
pub(crate) const NAMESPACES: Statement = Statement {
    name: "NAMESPACES",
    params: &[],
    text: "SELECT id, name FROM namespace ORDER BY name COLLATE \"C\"",
};

/// Whether the server refuses writes: a standby (in recovery), or a
/// session left read-only (`default_transaction_read_only`).
pub(crate) const SERVER_READ_ONLY: Statement = Statement {
    name: "SERVER_READ_ONLY",
    params: &[],
    text: "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' \
           AS read_only",
};

/// A namespace's work spec names, in order.
pub(crate) const WORK_SPEC_NAMES: Statement = Statement {
    name: "WORK_SPEC_NAMES",
    params: &["$1 = namespace id"],
    text: "SELECT name FROM work_spec WHERE namespace_id = $1 ORDER BY name COLLATE \"C\"",
};

/// A namespace's workers, by name.
pub(crate) const WORKERS: Statement = Statement {
    name: "WORKERS",
    params: &["$1 = namespace id"],
    text: "SELECT id, name FROM worker WHERE namespace_id = $1 ORDER BY name COLLATE \"C\"",
};

/// A worker's children, by name.
pub(crate) const CHILD_WORKERS: Statement = Statement {
    name: "CHILD_WORKERS",
    params: &["$1 = parent worker id"],
    text: "SELECT id, name FROM worker WHERE parent = $1 ORDER BY name COLLATE \"C\"",
};

/// Wakes the waiters listening on `coordinate_work` with a payload: a
/// namespace's id after a change that may let its units be claimed
/// without freeing any (a spec un-paused, a limit raised), or the
/// listener's own probe.
pub(crate) const WAKE: Statement = Statement {
    name: "WAKE",
    params: &["$1 = payload: a namespace id as text, or the listener's probe"],
    text: "SELECT pg_notify('coordinate_work', $1)",
};
