//! The CPU a run cost the whole machine, and this process's part of it.
//!
//! The bench, the server and `pgbench` share the machine's cores. Once
//! they are busy, a row's rate is bounded by the CPU each unit costs all
//! of them together, whatever the row overlaps: the `cpu µs/u` and
//! `busy %` columns show how close a row came to that bound (issue 23).
//! Read from `/proc/stat` (every core's time) and `/proc/self/stat`
//! (this process's); elsewhere the columns stay empty.

/// Linux reports both files in `USER_HZ` ticks, 100 a second on every
/// architecture (it is part of the userspace ABI).
const TICKS_PER_SECOND: f64 = 100.0;

/// A reading of the counters.
#[derive(Clone, Copy)]
pub struct Ticks {
    /// Every core's ticks not idle (nor waiting for I/O).
    busy: u64,
    /// Every core's ticks.
    total: u64,
    /// This process's user and system ticks.
    own: u64,
}

impl Ticks {
    /// The counters now; `None` where `/proc` does not have them.
    pub fn now() -> Option<Ticks> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        // "cpu  user nice system idle iowait irq softirq steal ..."
        let fields: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .take(8)
            .map(|field| field.parse().ok())
            .collect::<Option<_>>()?;
        let total: u64 = fields.iter().sum();
        let idle = fields.get(3)? + fields.get(4)?;
        let own = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name may hold spaces: count fields after its ')'.
        let after_name = own.get(own.rfind(')')? + 1..)?;
        let own_fields: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line, the 12th and
        // 13th after the name.
        let utime: u64 = own_fields.get(11)?.parse().ok()?;
        let stime: u64 = own_fields.get(12)?.parse().ok()?;
        Some(Ticks {
            busy: total - idle,
            total,
            own: utime + stime,
        })
    }
}

/// What one run cost in CPU.
#[derive(Clone, Copy, Debug)]
pub struct Cpu {
    /// CPU seconds every process spent: the server, this process, pgbench.
    pub machine_seconds: f64,
    /// Of those, this process's; `None` where the work ran elsewhere
    /// (pgbench).
    pub own_seconds: Option<f64>,
    /// The share of all cores' time that was busy, 0 to 1.
    pub busy: f64,
}

impl Cpu {
    /// The CPU spent since `start`.
    pub fn since(start: Ticks) -> Option<Cpu> {
        let end = Ticks::now()?;
        let total = end.total.checked_sub(start.total)?;
        if total == 0 {
            return None;
        }
        let busy = end.busy.saturating_sub(start.busy);
        Some(Cpu {
            machine_seconds: busy as f64 / TICKS_PER_SECOND,
            own_seconds: Some(end.own.saturating_sub(start.own) as f64 / TICKS_PER_SECOND),
            busy: busy as f64 / total as f64,
        })
    }

    /// The same, with this process's part left out.
    pub fn elsewhere(self) -> Cpu {
        Cpu {
            own_seconds: None,
            ..self
        }
    }
}
