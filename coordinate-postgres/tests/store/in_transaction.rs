//! `in_transaction`: adding and completing inside the application's own
//! transaction, with the application's own table, at each isolation level
//! PostgreSQL offers. What commits together stays together; what rolls
//! back leaves nothing, and wakes nobody.

use std::sync::Arc;
use std::time::{Duration, Instant};

use coordinate_api::{
    AttemptRequest, AttemptStatus, Completion, Coordinate, Data, Error, Namespace, NewWorkUnit,
    Outcome, Value, Wakeup, WorkUnitMeta,
};
use coordinate_conformance::wakeup::settle;
use coordinate_postgres::diesel::{self, Connection, PgConnection, RunQueryDsl};
use coordinate_postgres::in_transaction;
use coordinate_postgres::test_support::database_url;

use crate::common::{coordinate, spec, unique};

/// The isolation levels a caller may open its transaction with.
#[derive(Debug, Clone, Copy)]
enum Level {
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

const LEVELS: [Level; 3] = [
    Level::ReadCommitted,
    Level::RepeatableRead,
    Level::Serializable,
];

/// Runs `body` in a transaction of `level`; the error says why it rolled
/// back.
fn transaction<T>(
    conn: &mut PgConnection,
    level: Level,
    body: impl FnOnce(&mut PgConnection) -> Result<T, Rollback>,
) -> Result<T, Rollback> {
    let builder = conn.build_transaction();
    let mut builder = match level {
        Level::ReadCommitted => builder.read_committed(),
        Level::RepeatableRead => builder.repeatable_read(),
        Level::Serializable => builder.serializable(),
    };
    builder.run(body)
}

/// Why a test's transaction rolled back.
#[derive(Debug)]
enum Rollback {
    Asked,
    Coordinate(Error),
    // Kept for the failure message.
    #[allow(dead_code)]
    Diesel(diesel::result::Error),
}

impl From<diesel::result::Error> for Rollback {
    fn from(error: diesel::result::Error) -> Self {
        Rollback::Diesel(error)
    }
}

impl From<Error> for Rollback {
    fn from(error: Error) -> Self {
        Rollback::Coordinate(error)
    }
}

/// The application's own table, fresh for one test.
struct AppTable {
    name: String,
}

impl AppTable {
    fn new(conn: &mut PgConnection) -> AppTable {
        let name = unique("app_rows");
        diesel::sql_query(format!("CREATE TABLE {name} (id text PRIMARY KEY)"))
            .execute(conn)
            .expect("create the application's table");
        AppTable { name }
    }

    fn insert(&self, conn: &mut PgConnection, id: &str) -> Result<(), Rollback> {
        diesel::sql_query(format!("INSERT INTO {} (id) VALUES ($1)", self.name))
            .bind::<diesel::sql_types::Text, _>(id)
            .execute(conn)?;
        Ok(())
    }

    fn count(&self, conn: &mut PgConnection) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT count(*) AS n FROM {}", self.name))
            .get_result::<Count>(conn)
            .expect("count")
            .n
    }
}

fn connection() -> PgConnection {
    PgConnection::establish(&database_url()).expect("the application's own connection")
}

fn unit(name: &str) -> NewWorkUnit {
    NewWorkUnit {
        name: name.to_owned(),
        data: Data::new(),
        meta: WorkUnitMeta::default(),
    }
}

/// Starts a wait for work on another thread once earlier wake-ups are
/// spent; joined, it says whether it was woken before `timeout`.
fn waiter(namespace: &Arc<dyn Namespace>, timeout: Duration) -> std::thread::JoinHandle<Wakeup> {
    settle(namespace);
    let namespace = namespace.clone();
    let handle = std::thread::spawn(move || namespace.wait_for_work(timeout).expect("wait"));
    std::thread::sleep(Duration::from_millis(50));
    handle
}

#[test]
fn units_added_in_a_transaction_exist_and_wake_workers_only_if_it_commits() {
    let coordinate = coordinate();
    let namespace = coordinate.namespace(&unique("tx_add")).unwrap();
    let emails = namespace.set_work_spec(spec("emails", &[])).unwrap();
    let mut conn = connection();
    let orders = AppTable::new(&mut conn);
    for level in LEVELS {
        let name = format!("{level:?}");
        let waiting = waiter(&namespace, Duration::from_millis(700));
        let rolled_back = transaction(&mut conn, level, |conn| {
            orders.insert(conn, &name)?;
            in_transaction::add_work_units(conn, emails.as_ref(), vec![unit(&name)])?;
            Err::<(), _>(Rollback::Asked)
        });
        assert!(matches!(rolled_back, Err(Rollback::Asked)), "{level:?}");
        assert_eq!(
            waiting.join().unwrap(),
            Wakeup::TimedOut,
            "{level:?}: woken by a rollback"
        );
        assert!(
            emails.work_unit(&name).is_err(),
            "{level:?}: the unit stayed"
        );

        let waiting = waiter(&namespace, Duration::from_secs(20));
        let started = Instant::now();
        let added = transaction(&mut conn, level, |conn| {
            orders.insert(conn, &name)?;
            Ok(in_transaction::add_work_units(
                conn,
                emails.as_ref(),
                vec![unit(&name)],
            )?)
        });
        assert_eq!(added.unwrap(), 1, "{level:?}");
        assert_eq!(waiting.join().unwrap(), Wakeup::Woken, "{level:?}");
        assert!(started.elapsed() < Duration::from_secs(10), "{level:?}");
        assert!(
            emails.work_unit(&name).is_ok(),
            "{level:?}: the unit is there"
        );
    }
    assert_eq!(
        orders.count(&mut conn),
        3,
        "one row per committed transaction"
    );
    namespace.destroy().unwrap();
}

#[test]
fn a_completion_commits_or_rolls_back_with_the_handlers_own_write() {
    let coordinate = coordinate();
    let namespace = coordinate.namespace(&unique("tx_complete")).unwrap();
    let next = namespace.set_work_spec(spec("next", &[])).unwrap();
    let work = namespace
        .set_work_spec(spec("work", &[("then", Value::Text("next".into()))]))
        .unwrap();
    let mut conn = connection();
    let effects = AppTable::new(&mut conn);
    let worker = namespace.worker("w").unwrap();
    for level in LEVELS {
        let name = format!("{level:?}");
        work.add_work_unit(&name, Data::new(), WorkUnitMeta::default())
            .unwrap();
        let attempt = worker
            .request_attempts(&AttemptRequest {
                work_specs: vec!["work".into()],
                ..AttemptRequest::default()
            })
            .unwrap()
            .pop()
            .expect("claimed");
        let mut output = Data::new();
        output.insert(
            "output".into(),
            Value::Array(vec![Value::Text(format!("after-{name}"))]),
        );
        let finish = || Completion::new(attempt.clone(), Outcome::Finish(Some(output.clone())));

        let rolled_back = transaction(&mut conn, level, |conn| {
            effects.insert(conn, &name)?;
            in_transaction::complete_attempt(conn, namespace.as_ref(), finish())?;
            Err::<(), _>(Rollback::Asked)
        });
        assert!(matches!(rolled_back, Err(Rollback::Asked)), "{level:?}");
        assert_eq!(
            attempt.status().unwrap(),
            AttemptStatus::Pending,
            "{level:?}"
        );
        assert!(
            next.work_unit(&format!("after-{name}")).is_err(),
            "{level:?}"
        );

        transaction(&mut conn, level, |conn| {
            effects.insert(conn, &name)?;
            Ok(in_transaction::complete_attempt(
                conn,
                namespace.as_ref(),
                finish(),
            )?)
        })
        .unwrap_or_else(|e| panic!("{level:?}: {e:?}"));
        assert_eq!(
            attempt.status().unwrap(),
            AttemptStatus::Finished,
            "{level:?}"
        );
        assert!(
            next.work_unit(&format!("after-{name}")).is_ok(),
            "{level:?}: chained"
        );
    }
    assert_eq!(
        effects.count(&mut conn),
        3,
        "one effect per committed completion"
    );
    namespace.destroy().unwrap();
}

#[test]
fn a_lease_lost_before_the_commit_fails_the_transaction_and_keeps_nothing() {
    let coordinate = coordinate();
    let namespace = coordinate.namespace(&unique("tx_lost")).unwrap();
    let work = namespace.set_work_spec(spec("work", &[])).unwrap();
    let mut conn = connection();
    let effects = AppTable::new(&mut conn);
    for level in LEVELS {
        let name = format!("{level:?}");
        work.add_work_unit(&name, Data::new(), WorkUnitMeta::default())
            .unwrap();
        let attempt = namespace
            .worker("slow")
            .unwrap()
            .request_attempts(&AttemptRequest::default())
            .unwrap()
            .pop()
            .expect("claimed");
        // Someone takes the unit while the handler works.
        attempt.expire(None).unwrap();
        let taken = namespace
            .worker("fast")
            .unwrap()
            .request_attempts(&AttemptRequest::default())
            .unwrap();
        assert_eq!(taken.len(), 1);

        let failed = transaction(&mut conn, level, |conn| {
            effects.insert(conn, &name)?;
            let completion = Completion::new(attempt.clone(), Outcome::Finish(None));
            Ok(in_transaction::complete_attempt(
                conn,
                namespace.as_ref(),
                completion,
            )?)
        });
        match failed {
            Err(Rollback::Coordinate(Error::NotPending { .. } | Error::LostLease { .. })) => {}
            other => panic!("{level:?}: {other:?}"),
        }
        assert_eq!(
            taken[0].status().unwrap(),
            AttemptStatus::Pending,
            "{level:?}"
        );
    }
    assert_eq!(
        effects.count(&mut conn),
        0,
        "no effect of a lost lease committed"
    );
    namespace.destroy().unwrap();
}

#[test]
fn without_an_open_transaction_the_calls_refuse_and_change_nothing() {
    let coordinate = coordinate();
    let namespace = coordinate.namespace(&unique("tx_none")).unwrap();
    let work = namespace.set_work_spec(spec("work", &[])).unwrap();
    let mut conn = connection();
    let refused = in_transaction::add_work_units(&mut conn, work.as_ref(), vec![unit("u")]);
    assert!(
        matches!(&refused, Err(Error::InvalidInput { .. })),
        "{refused:?}"
    );
    assert!(work.work_unit("u").is_err());
    // A handle of another backend is refused as such.
    let memory = coordinate_memory::MemoryCoordinate::new();
    let other = memory
        .namespace("n")
        .unwrap()
        .set_work_spec(spec("work", &[]))
        .unwrap();
    let wrong = conn.transaction(|conn| {
        Ok::<_, diesel::result::Error>(in_transaction::add_work_units(
            conn,
            other.as_ref(),
            vec![unit("u")],
        ))
    });
    assert!(matches!(wrong, Ok(Err(Error::WrongBackend))), "{wrong:?}");
    namespace.destroy().unwrap();
}

#[test]
fn a_concurrent_change_is_a_transient_conflict_for_the_caller_to_retry() {
    let coordinate = coordinate();
    let namespace = coordinate.namespace(&unique("tx_conflict")).unwrap();
    let work = namespace.set_work_spec(spec("work", &[])).unwrap();
    work.add_work_unit("u", Data::new(), WorkUnitMeta::default())
        .unwrap();
    let attempt = namespace
        .worker("w")
        .unwrap()
        .request_attempts(&AttemptRequest::default())
        .unwrap()
        .pop()
        .expect("claimed");
    let (holding, held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let first = {
        let (namespace, attempt) = (namespace.clone(), attempt.clone());
        std::thread::spawn(move || {
            let mut conn = connection();
            transaction(&mut conn, Level::RepeatableRead, |conn| {
                let renew = Completion::new(
                    attempt,
                    Outcome::Retry {
                        data: None,
                        delay: Duration::ZERO,
                    },
                );
                in_transaction::complete_attempt(conn, namespace.as_ref(), renew)?;
                holding.send(()).unwrap();
                released.recv().unwrap();
                Ok(())
            })
            .unwrap();
        })
    };
    held.recv().unwrap();
    let second = {
        let (namespace, attempt) = (namespace.clone(), attempt.clone());
        std::thread::spawn(move || {
            let mut conn = connection();
            transaction(&mut conn, Level::Serializable, |conn| {
                let finish = Completion::new(attempt, Outcome::Finish(None));
                Ok(in_transaction::complete_attempt(
                    conn,
                    namespace.as_ref(),
                    finish,
                )?)
            })
        })
    };
    // The second waits on the first's locks; then the first commits.
    std::thread::sleep(Duration::from_millis(300));
    release.send(()).unwrap();
    first.join().unwrap();
    match second.join().unwrap() {
        Err(Rollback::Coordinate(error)) => {
            assert!(error.is_transient(), "{error:?}");
            assert_eq!(
                error.backend_kind(),
                Some(coordinate_api::BackendErrorKind::Conflict),
                "{error:?}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(attempt.status().unwrap(), AttemptStatus::Retryable);
    namespace.destroy().unwrap();
}
