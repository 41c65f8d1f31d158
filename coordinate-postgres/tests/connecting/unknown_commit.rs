//! Commits whose outcome the client never learns: the connection dies
//! after `COMMIT` was sent, as when a primary fails over mid-call. A relay
//! between the library and the test server passes one `COMMIT` on and
//! then cuts both sides, so the server commits and the library hears
//! only a lost connection.
//!
//! - A claim: the unit is held by a worker that was never told, and is
//!   handed to nobody else until that lease runs out.
//! - A result sent by the runtime: it is sent again, found applied, and
//!   counted as done, not as a lost lease or a failure.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coordinate_api::runtime::{CompletionMode, Job, JobOutcome, Runtime};
use coordinate_api::{
    AttemptRequest, AttemptStatus, Coordinate, Data, Namespace, WorkSpec, WorkUnitMeta,
};
use coordinate_postgres::PostgresCoordinate;

use crate::common::{coordinate, spec, unique, Params};

/// The relay's state, shared with its threads.
#[derive(Default)]
struct Cutter {
    /// Cut the next connection that commits a statement whose text holds
    /// this: right after its commit went to the server, before the answer
    /// comes back.
    armed: Mutex<Option<&'static str>>,
    cuts: AtomicUsize,
    /// The text of the statement whose commit was cut.
    cut_statement: Mutex<String>,
}

impl Cutter {
    fn arm(&self, needle: &'static str) {
        *self.armed.lock().unwrap() = Some(needle);
    }

    fn needle(&self) -> Option<&'static str> {
        *self.armed.lock().unwrap()
    }
}

/// A TCP relay to the test server on a loopback port.
struct Relay {
    port: u16,
    cutter: Arc<Cutter>,
}

impl Relay {
    fn start() -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let cutter = Arc::new(Cutter::default());
        let shared = cutter.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let cutter = shared.clone();
                std::thread::spawn(move || relay(client, &cutter));
            }
        });
        Relay { port, cutter }
    }

    /// A connection string through the relay. TLS off: the relay reads
    /// the client's messages.
    fn url(&self) -> String {
        let params = Params {
            host: "127.0.0.1".to_owned(),
            port: self.port.to_string(),
            ..Params::get()
        };
        format!("{}?sslmode=disable", params.url(None))
    }

    fn cuts(&self) -> usize {
        self.cutter.cuts.load(Ordering::SeqCst)
    }

    fn cut_statement(&self) -> String {
        self.cutter.cut_statement.lock().unwrap().clone()
    }
}

/// The test server's end of a relayed connection: a reader, a writer and
/// a way to close both.
type Upstream = (
    Box<dyn Read + Send>,
    Box<dyn Write + Send>,
    Box<dyn Fn() + Send>,
);

fn open_upstream() -> Upstream {
    let params = Params::get();
    if params.host.starts_with('/') {
        let path = format!("{}/.s.PGSQL.{}", params.host, params.port);
        let s = UnixStream::connect(&path).expect("the test server's socket");
        let (r, c) = (s.try_clone().unwrap(), s.try_clone().unwrap());
        (
            Box::new(r),
            Box::new(s),
            Box::new(move || drop(c.shutdown(Shutdown::Both))),
        )
    } else {
        let port: u16 = params.port.parse().expect("a port number");
        let s = TcpStream::connect((params.host.as_str(), port)).expect("the test server");
        let (r, c) = (s.try_clone().unwrap(), s.try_clone().unwrap());
        (
            Box::new(r),
            Box::new(s),
            Box::new(move || drop(c.shutdown(Shutdown::Both))),
        )
    }
}

/// What the relay reads of the client's side of the protocol: prepared
/// statements by name, and whether a transaction block is open.
#[derive(Default)]
struct Conversation {
    started: bool,
    pending: Vec<u8>,
    statements: HashMap<String, String>,
    in_block: bool,
    /// The armed statement ran inside the open block: cut at its COMMIT.
    watched: Option<String>,
}

impl Conversation {
    /// Reads `chunk`'s complete messages; the text of the armed statement
    /// when `chunk` holds its commit (its own execution outside a block,
    /// or the COMMIT of the block it ran in).
    fn commits(&mut self, chunk: &[u8], needle: Option<&str>) -> Option<String> {
        self.pending.extend_from_slice(chunk);
        let mut found = None;
        loop {
            // The startup message has no type byte; every later one has.
            let head = usize::from(self.started);
            let Some(len) = self.pending.get(head..head + 4) else {
                break;
            };
            let len = u32::from_be_bytes(len.try_into().unwrap()) as usize;
            if self.pending.len() < head + len {
                break;
            }
            let message: Vec<u8> = self.pending.drain(..head + len).collect();
            if !self.started {
                self.started = true;
                continue;
            }
            let body = &message[5..];
            let mut fields = body
                .split(|b| *b == 0)
                .map(|f| String::from_utf8_lossy(f).into_owned());
            match message[0] {
                b'P' => {
                    let name = fields.next().unwrap_or_default();
                    self.statements
                        .insert(name, fields.next().unwrap_or_default());
                }
                b'Q' => {
                    let query = fields.next().unwrap_or_default();
                    if query.starts_with("BEGIN") {
                        self.in_block = true;
                    } else if query.starts_with("COMMIT") || query.starts_with("ROLLBACK") {
                        self.in_block = false;
                        if query.starts_with("COMMIT") {
                            found = found.or(self.watched.take());
                        }
                        self.watched = None;
                    }
                }
                b'B' => {
                    let _portal = fields.next();
                    let name = fields.next().unwrap_or_default();
                    let text = self.statements.get(&name).cloned().unwrap_or_default();
                    if needle.is_some_and(|needle| text.contains(needle)) {
                        match self.in_block {
                            true => self.watched = Some(text),
                            false => found = Some(text),
                        }
                    }
                }
                _ => {}
            }
        }
        found
    }
}

/// Relays one client connection until either side closes; when armed,
/// cuts it after the armed statement's commit reached the server.
fn relay(client: TcpStream, cutter: &Cutter) {
    let (mut from_server, mut to_server, close_server) = open_upstream();
    let mute = Arc::new(AtomicBool::new(false));
    let back = {
        let (mute, mut to_client) = (mute.clone(), client.try_clone().unwrap());
        std::thread::spawn(move || {
            let mut buffer = [0u8; 64 * 1024];
            while let Ok(n @ 1..) = from_server.read(&mut buffer) {
                if mute.load(Ordering::SeqCst) || to_client.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        })
    };
    let mut from_client = client.try_clone().unwrap();
    let mut conversation = Conversation::default();
    let mut buffer = [0u8; 64 * 1024];
    while let Ok(n @ 1..) = from_client.read(&mut buffer) {
        let chunk = &buffer[..n];
        let commit = conversation.commits(chunk, cutter.needle());
        if let Some(statement) = &commit {
            // The answer must not reach the client: mute first.
            mute.store(true, Ordering::SeqCst);
            *cutter.armed.lock().unwrap() = None;
            *cutter.cut_statement.lock().unwrap() = statement.clone();
        }
        if to_server.write_all(chunk).is_err() {
            break;
        }
        if commit.is_some() {
            // Time for the server to commit before it sees the close.
            let _ = to_server.flush();
            std::thread::sleep(Duration::from_millis(200));
            cutter.cuts.fetch_add(1, Ordering::SeqCst);
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    close_server();
    let _ = back.join();
}

/// A new namespace (its name, handle) with spec `s` holding unit `u`,
/// through a direct connection.
fn one_unit(prefix: &str) -> (String, Arc<dyn Namespace>, Arc<dyn WorkSpec>) {
    let name = unique(prefix);
    let namespace = coordinate().namespace(&name).unwrap();
    let spec = namespace.set_work_spec(spec("s", &[])).unwrap();
    spec.add_work_unit("u", Data::new(), WorkUnitMeta::default())
        .unwrap();
    (name, namespace, spec)
}

fn through(relay: &Relay) -> PostgresCoordinate {
    PostgresCoordinate::builder(&relay.url())
        .pool_size(2)
        .connection_timeout(Duration::from_secs(5))
        .build()
        .expect("connecting through the relay")
}

#[test]
fn a_claim_whose_answer_was_lost_is_handed_to_nobody_else_until_its_lease_ends() {
    let (name, namespace, spec) = one_unit("lost_claim");

    let relay = Relay::start();
    let relayed = through(&relay);
    let worker = relayed.namespace(&name).unwrap().worker("lost").unwrap();
    let lease = Duration::from_secs(2);
    let request = AttemptRequest {
        lifetime: lease,
        ..AttemptRequest::default()
    };
    relay.cutter.arm("INSERT INTO attempt");
    let claimed = worker.request_attempts(&request);
    let claimed_at = Instant::now();
    let Err(error) = claimed else {
        panic!("the claim's answer was cut off, yet it succeeded");
    };
    assert!(error.is_transient(), "{error:?}");
    assert_eq!(relay.cuts(), 1);
    assert!(relay.cut_statement().contains("INSERT INTO attempt"));

    // It did commit: the unit is pending for the worker that never heard.
    let unit = spec.work_unit("u").unwrap();
    let held = unit
        .active_attempt()
        .unwrap()
        .expect("an attempt holds the unit");
    assert_eq!(held.worker().name(), "lost");
    assert_eq!(held.status().unwrap(), AttemptStatus::Pending);
    // Neither another worker nor the same one asking again gets it now.
    let other = namespace.worker("other").unwrap();
    assert!(other.request_attempts(&request).unwrap().is_empty());
    assert!(worker.request_attempts(&request).unwrap().is_empty());
    // Once the lease ran out it goes to the next worker that asks.
    let until = claimed_at + lease + Duration::from_secs(10);
    let next = loop {
        let got = other.request_attempts(&request).unwrap();
        if let Some(attempt) = got.into_iter().next() {
            break attempt;
        }
        assert!(Instant::now() < until, "the unit never came back");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        claimed_at.elapsed() >= lease - Duration::from_millis(200),
        "handed out early"
    );
    next.finish(None).unwrap();
    let attempts = unit.attempts().unwrap();
    let statuses: Vec<AttemptStatus> = attempts.iter().map(|a| a.status().unwrap()).collect();
    assert_eq!(statuses, [AttemptStatus::Expired, AttemptStatus::Finished]);
    namespace.destroy().unwrap();
}

#[test]
fn a_result_whose_answer_was_lost_is_resent_and_counted_done() {
    let (name, namespace, spec) = one_unit("lost_finish");

    let relay = Relay::start();
    let relayed = through(&relay);
    let arm = relay.cutter.clone();
    let runtime = Runtime::builder(relayed.namespace(&name).unwrap())
        .handler("s", move |_: &Job| {
            // Cut the connection that commits this result.
            arm.arm("SET status = 'finished'");
            Ok(JobOutcome::finish())
        })
        .completion(CompletionMode::Immediate)
        .concurrency(1)
        .lease(Duration::from_secs(60))
        .poll_interval(Duration::from_secs(60))
        .worker_name(unique("resend"))
        .start()
        .expect("the runtime starts");
    let until = Instant::now() + Duration::from_secs(20);
    while runtime.stats().finished + runtime.stats().lost_leases + runtime.stats().refused == 0 {
        assert!(Instant::now() < until, "the result was never settled");
        std::thread::sleep(Duration::from_millis(20));
    }
    runtime.shutdown();
    let report = runtime.wait();
    assert_eq!(relay.cuts(), 1);
    assert!(relay.cut_statement().contains("SET status = 'finished'"));
    let totals = &report.totals;
    assert_eq!(
        (
            totals.finished,
            totals.lost_leases,
            totals.refused,
            totals.unsent
        ),
        (1, 0, 0, 0),
        "{totals:?}"
    );
    let attempts = spec.work_unit("u").unwrap().attempts().unwrap();
    assert_eq!(attempts.len(), 1, "finished once, by its one attempt");
    assert_eq!(attempts[0].status().unwrap(), AttemptStatus::Finished);
    namespace.destroy().unwrap();
}
