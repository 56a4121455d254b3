//! gunicorn 20.1 (docs/research/app-servers-observations.md §2): a master
//! (the arbiter) and `workers` worker processes. The arbiter aborts a
//! worker that has been busy longer than `timeout`; the killed request gets
//! no reply (nginx: "upstream prematurely closed connection", 502) whatever
//! nginx's own read timeout. The default `sync` worker answers
//! `Connection: close`; `gthread` keeps a connection `keepalive` seconds.

use serde::{Deserialize, Serialize};

use crate::sim::time::{Clock, SimTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WorkerClass {
    /// One request at a time per worker, `Connection: close`.
    #[default]
    Sync,
    /// `threads` requests per worker, keep-alive for `keepalive` seconds.
    Gthread,
}

/// gunicorn's settings, by its own names (`--workers`, `--timeout`,
/// `--worker-class`, `--threads`, `--keep-alive`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Gunicorn {
    pub workers: u32,
    /// Seconds a worker may stay silent before the arbiter aborts it (30).
    pub timeout: u64,
    pub worker_class: WorkerClass,
    pub threads: u32,
    /// Seconds an idle keep-alive connection stays open (gthread; 2).
    pub keepalive: u64,
}

impl Default for Gunicorn {
    fn default() -> Self {
        Gunicorn { workers: 1, timeout: 30, worker_class: WorkerClass::Sync, threads: 1, keepalive: 2 }
    }
}

impl Gunicorn {
    pub fn concurrency(&self) -> u32 {
        match self.worker_class {
            WorkerClass::Sync => self.workers,
            WorkerClass::Gthread => self.workers.saturating_mul(self.threads.max(1)),
        }
    }

    pub fn keepalive_ms(&self) -> Option<u64> {
        match self.worker_class {
            WorkerClass::Sync => None,
            WorkerClass::Gthread => Some(self.keepalive * 1_000),
        }
    }

    pub fn validate(&self, f: &str) -> Result<(), String> {
        if self.workers == 0 || self.workers > 1_000 {
            return Err(format!("{f}.workers: must be between 1 and 1000, got {}", self.workers));
        }
        if self.threads == 0 || self.threads > 1_000 {
            return Err(format!("{f}.threads: must be between 1 and 1000, got {}", self.threads));
        }
        if self.timeout == 0 || self.timeout > 86_400 {
            return Err(format!("{f}.timeout: must be between 1 and 86400 seconds, got {}", self.timeout));
        }
        if self.keepalive == 0 || self.keepalive > 86_400 {
            return Err(format!("{f}.keepalive: must be between 1 and 86400 seconds, got {}", self.keepalive));
        }
        Ok(())
    }

    /// When the arbiter aborts a worker that started a request at `start`
    /// and is still on it: the arbiter wakes once a second (its
    /// `select(1.0)`, counted from the master's start `master`), and
    /// aborts a worker whose last heartbeat is older than `timeout`. Measured
    /// with `--timeout 2`: 2.07–2.99 s after the request (inferred: the
    /// first wake-up at or after `timeout`).
    pub fn abort_at(&self, master: SimTime, start: SimTime) -> SimTime {
        let due = start.as_micros() + self.timeout * 1_000_000;
        let since = due.saturating_sub(master.as_micros());
        let ticks = since.div_ceil(1_000_000);
        SimTime(master.as_micros() + ticks * 1_000_000)
    }
}

/// A line of gunicorn's error log (stderr, so in the unit's journal):
/// `[2026-12-06 07:02:59 +0000] [2979] [CRITICAL] WORKER TIMEOUT (pid:3015)`.
pub fn line(clock: &Clock, t: SimTime, pid: u32, level: &str, msg: &str) -> String {
    format!("[{}] [{pid}] [{level}] {msg}", clock.gunicorn(t))
}

/// The arbiter's three lines when it aborts worker `worker` and boots `new`
/// (observed, in this order; the first from the master, the second from the
/// dying worker, the third from the new one).
pub fn timeout_lines(clock: &Clock, t: SimTime, master: u32, worker: u32, new: u32) -> [(u32, String); 3] {
    [
        (master, line(clock, t, master, "CRITICAL", &format!("WORKER TIMEOUT (pid:{worker})"))),
        (worker, line(clock, t, worker, "INFO", &format!("Worker exiting (pid: {worker})"))),
        (new, line(clock, t, new, "INFO", &format!("Booting worker with pid: {new}"))),
    ]
}

/// gunicorn's start-up lines (observed, §2.1).
pub fn start_lines(clock: &Clock, t: SimTime, master: u32, listen: &str, g: &Gunicorn, workers: &[u32]) -> Vec<(u32, String)> {
    let bind = if listen.starts_with("unix:") { listen.to_string() } else { format!("http://{listen}") };
    let class = match g.worker_class {
        WorkerClass::Sync => "sync",
        WorkerClass::Gthread => "gthread",
    };
    let mut out = vec![
        (master, line(clock, t, master, "INFO", "Starting gunicorn 20.1.0")),
        (master, line(clock, t, master, "INFO", &format!("Listening at: {bind} ({master})"))),
        (master, line(clock, t, master, "INFO", &format!("Using worker: {class}"))),
    ];
    for &w in workers {
        out.push((w, line(clock, t, w, "INFO", &format!("Booting worker with pid: {w}"))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arbiter_aborts_at_its_first_wake_up_after_the_timeout() {
        let g = Gunicorn { timeout: 2, ..Gunicorn::default() };
        assert_eq!(g.abort_at(SimTime::ZERO, SimTime(300_000)), SimTime(3_000_000));
        assert_eq!(g.abort_at(SimTime::ZERO, SimTime(0)), SimTime(2_000_000));
    }

    #[test]
    fn lines_are_gunicorns() {
        let c = Clock::new(1_796_540_579); // 2026-12-06 07:02:59 UTC
        let l = timeout_lines(&c, SimTime::ZERO, 2979, 3015, 3303);
        assert_eq!(l[0].1, "[2026-12-06 07:02:59 +0000] [2979] [CRITICAL] WORKER TIMEOUT (pid:3015)");
        assert_eq!(l[1].1, "[2026-12-06 07:02:59 +0000] [3015] [INFO] Worker exiting (pid: 3015)");
        assert_eq!(l[2].1, "[2026-12-06 07:02:59 +0000] [3303] [INFO] Booting worker with pid: 3303");
    }
}
