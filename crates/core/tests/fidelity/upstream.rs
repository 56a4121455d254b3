//! Scriptable misbehaving upstreams for the fidelity harness: real sockets on
//! loopback that do what a scenario's apps do on the wire.
//!
//! std only. Every thread polls a stop flag and a hard deadline
//! ([`HARD_LIMIT`]), every blocking call has a timeout, and everything stops
//! when the value that owns it is dropped. Only 127.0.0.1 and unix sockets
//! under the harness's temporary directory are used.
//!
//! What is here:
//! - [`Upstream`]: an app process. A listener (TCP or unix, any backlog) and
//!   a pool of workers that each serve one request at a time. Connections
//!   wait unread in the kernel's accept queue while every worker is busy,
//!   exactly like the engine's backlog. A kept-alive connection holds no
//!   worker while it is idle (as in an event-loop app such as Node.js, and
//!   in the engine): it waits parked until its next request arrives, then
//!   queues for a worker like a new connection. Per request a [`Script`] chooses what
//!   goes on the wire ([`Action`]): a response (healthy 200, 503 with
//!   Retry-After, 500, an invalid header line, an oversized header, a body
//!   cut short), garbage bytes, FIN after reading, RST after reading, or a
//!   hang, after a delay (slow). A plan can also kill the process: the
//!   listener closes (queued connections get RST from the kernel), open
//!   connections close with FIN, and the port refuses connections until the
//!   restart. `down` windows refuse connections at scheduled times (app down,
//!   rolling deploy). Keep-alive connections close after an idle timeout, and
//!   a request that arrives on a connection at the end of its idle time hits
//!   the race deterministically (see [`AppConfig::race_window_ms`]).
//! - [`BlackHole`]: a listener with backlog 0 whose accept queue is pre-filled
//!   and never drained: the kernel drops further SYNs.
//! - [`Dns`]: a UDP DNS answerer (NXDOMAIN, SERVFAIL, silence, or an A record).
//! - [`TlsServer`]: `openssl s_server` with a certificate from [`Pki`].

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// No upstream thread outlives this, whatever happens to the test.
pub const HARD_LIMIT: Duration = Duration::from_secs(300);

/// The few libc calls std does not expose (linking against libc, which std
/// already does; no crate needed).
pub mod sys {
    use std::os::raw::{c_int, c_void};

    extern "C" {
        fn setsockopt(fd: c_int, level: c_int, name: c_int, val: *const c_void, len: u32) -> c_int;
        fn listen(fd: c_int, backlog: c_int) -> c_int;
        fn kill(pid: c_int, sig: c_int) -> c_int;
        fn geteuid() -> u32;
        fn poll(fds: *mut PollFd, nfds: u64, timeout: c_int) -> c_int;
        fn recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int) -> isize;
    }

    #[repr(C)]
    struct PollFd {
        fd: c_int,
        events: i16,
        revents: i16,
    }
    const POLLIN: i16 = 1;
    const MSG_PEEK: c_int = 2;
    const MSG_DONTWAIT: c_int = 0x40;

    /// True when `fd` has something to read (data, EOF or an error) within `ms`.
    pub fn readable(fd: c_int, ms: u64) -> bool {
        let mut p = PollFd { fd, events: POLLIN, revents: 0 };
        // SAFETY: one valid pollfd for the duration of the call.
        unsafe { poll(&mut p, 1, ms.min(i32::MAX as u64) as c_int) > 0 }
    }

    /// True when the peer has closed (or reset) the connection: nothing
    /// left to read. Consumes nothing.
    pub fn peer_closed(fd: c_int) -> bool {
        let mut b = 0u8;
        // SAFETY: reads at most one byte into a local, without consuming it.
        let n = unsafe { recv(fd, &mut b as *mut u8 as *mut c_void, 1, MSG_PEEK | MSG_DONTWAIT) };
        n == 0 || (n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::WouldBlock)
    }

    const SOL_SOCKET: c_int = 1;
    const SO_LINGER: c_int = 13;
    pub const SIGKILL: c_int = 9;
    pub const SIGTERM: c_int = 15;

    #[repr(C)]
    struct Linger {
        l_onoff: c_int,
        l_linger: c_int,
    }

    /// `SO_LINGER {1, 0}`: the next close() sends RST instead of FIN.
    pub fn linger_zero(fd: c_int) -> std::io::Result<()> {
        let l = Linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: fd is an open socket owned by the caller; the option value
        // is a properly sized `struct linger`.
        let r = unsafe { setsockopt(fd, SOL_SOCKET, SO_LINGER, &l as *const Linger as *const c_void, std::mem::size_of::<Linger>() as u32) };
        if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    }

    /// Calls listen() again: Linux then only changes the backlog.
    pub fn set_backlog(fd: c_int, backlog: c_int) -> std::io::Result<()> {
        // SAFETY: fd is a bound, listening socket owned by the caller.
        let r = unsafe { listen(fd, backlog) };
        if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    }

    /// Sends `sig` to `pid` (a negative pid names a process group).
    pub fn signal(pid: i32, sig: c_int) -> bool {
        // SAFETY: plain syscall; only called with ids of processes this test spawned.
        unsafe { kill(pid, sig) == 0 }
    }

    pub fn is_root() -> bool {
        // SAFETY: geteuid cannot fail.
        unsafe { geteuid() == 0 }
    }

    extern "C" {
        fn prctl(option: c_int, ...) -> c_int;
    }

    #[repr(C)]
    struct SockFilter {
        code: u16,
        jt: u8,
        jf: u8,
        k: u32,
    }

    #[repr(C)]
    struct SockFprog {
        len: u16,
        filter: *const SockFilter,
    }

    /// Makes every later `connect()` of this process and its children fail
    /// with EACCES (13), as SELinux does for a proxy whose policy forbids
    /// the port (`httpd_can_network_connect` off): a seccomp filter that
    /// returns the errno for the connect syscall. For `pre_exec` (it only
    /// calls prctl, which is async-signal-safe).
    pub fn deny_connect() -> std::io::Result<()> {
        const PR_SET_NO_NEW_PRIVS: c_int = 38;
        const PR_SET_SECCOMP: c_int = 22;
        const SECCOMP_MODE_FILTER: c_int = 2;
        const LD_W_ABS: u16 = 0x20;
        const JEQ_K: u16 = 0x15;
        const RET_K: u16 = 0x06;
        const RET_ALLOW: u32 = 0x7fff_0000;
        const RET_ERRNO_EACCES: u32 = 0x0005_0000 | 13;
        #[cfg(target_arch = "x86_64")]
        const ARCH_NR: (u32, u32) = (0xc000_003e, 42);
        #[cfg(target_arch = "aarch64")]
        const ARCH_NR: (u32, u32) = (0xc000_00b7, 203);
        let (arch, nr_connect) = ARCH_NR;
        let f = |code, jt, jf, k| SockFilter { code, jt, jf, k };
        let prog = [
            f(LD_W_ABS, 0, 0, 4), // seccomp_data.arch
            f(JEQ_K, 0, 3, arch),
            f(LD_W_ABS, 0, 0, 0), // seccomp_data.nr
            f(JEQ_K, 0, 1, nr_connect),
            f(RET_K, 0, 0, RET_ERRNO_EACCES),
            f(RET_K, 0, 0, RET_ALLOW),
        ];
        let fprog = SockFprog { len: prog.len() as u16, filter: prog.as_ptr() };
        // SAFETY: prctl with the documented arguments; `fprog` and `prog`
        // outlive the call (the kernel copies the filter).
        let ok = unsafe {
            prctl(PR_SET_NO_NEW_PRIVS, 1 as std::os::raw::c_ulong, 0 as std::os::raw::c_ulong, 0 as std::os::raw::c_ulong, 0 as std::os::raw::c_ulong) == 0
                && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER as std::os::raw::c_ulong, &fprog as *const SockFprog) == 0
        };
        if ok { Ok(()) } else { Err(std::io::Error::last_os_error()) }
    }
}

/// A private mount namespace whose `/etc/hosts` is another file: for a
/// proxy that must resolve `localhost` as a host with `::1 localhost` does.
pub mod hosts_ns {
    use std::ffi::CString;
    use std::os::raw::{c_char, c_int, c_ulong, c_void};

    extern "C" {
        fn unshare(flags: c_int) -> c_int;
        fn mount(src: *const c_char, target: *const c_char, fstype: *const c_char, flags: c_ulong, data: *const c_void) -> c_int;
    }

    const CLONE_NEWNS: c_int = 0x0002_0000;
    const MS_BIND: c_ulong = 4096;
    const MS_REC: c_ulong = 16384;
    const MS_PRIVATE: c_ulong = 1 << 18;

    /// Paths prepared before the fork (no allocation in the child).
    pub struct Paths {
        hosts: CString,
        root: CString,
        etc_hosts: CString,
        none: CString,
    }

    impl Paths {
        pub fn new(hosts: &std::path::Path) -> Paths {
            Paths {
                hosts: CString::new(hosts.as_os_str().as_encoded_bytes()).expect("no NUL in a temporary path"),
                root: CString::new("/").unwrap(),
                etc_hosts: CString::new("/etc/hosts").unwrap(),
                none: CString::new("none").unwrap(),
            }
        }

        /// For `pre_exec` (unshare and mount only, async-signal-safe): a new
        /// mount namespace, every mount in it made private first (as
        /// util-linux's `unshare -m` does), so the bind mount over
        /// /etc/hosts never reaches the host's namespace.
        pub fn enter(&self) -> std::io::Result<()> {
            // SAFETY: plain syscalls with NUL-terminated strings that outlive them.
            let ok = unsafe {
                unshare(CLONE_NEWNS) == 0
                    && mount(self.none.as_ptr(), self.root.as_ptr(), std::ptr::null(), MS_REC | MS_PRIVATE, std::ptr::null()) == 0
                    && mount(self.hosts.as_ptr(), self.etc_hosts.as_ptr(), std::ptr::null(), MS_BIND, std::ptr::null()) == 0
            };
            if ok { Ok(()) } else { Err(std::io::Error::last_os_error()) }
        }
    }
}

/// A free TCP port on 127.0.0.1 (bound and released at once).
pub fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

fn sleep_ms(ms: u64) {
    thread::sleep(Duration::from_millis(ms));
}

// ---------------------------------------------------------------------------
// Sockets: one type for TCP and unix connections.

pub enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }
    fn set_read_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(d),
            Stream::Unix(s) => s.set_read_timeout(d),
        }
    }
    fn set_write_timeout(&self, d: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_write_timeout(d),
            Stream::Unix(s) => s.set_write_timeout(d),
        }
    }
    fn set_nonblocking(&self, b: bool) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nonblocking(b),
            Stream::Unix(s) => s.set_nonblocking(b),
        }
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
        }
    }
    fn fd(&self) -> i32 {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where an app listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    Tcp(u16),
    /// A unix socket created with this file mode (0o600 and an nginx worker
    /// running as another user gives EACCES).
    Unix { path: PathBuf, mode: u32 },
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    fn bind(l: &Listen, backlog: u32) -> io::Result<Listener> {
        let listener = match l {
            Listen::Tcp(port) => Listener::Tcp(TcpListener::bind((Ipv4Addr::LOCALHOST, *port))?),
            Listen::Unix { path, mode } => {
                let _ = std::fs::remove_file(path);
                let u = UnixListener::bind(path)?;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))?;
                Listener::Unix(u)
            }
        };
        let fd = match &listener {
            Listener::Tcp(t) => t.as_raw_fd(),
            Listener::Unix(u) => u.as_raw_fd(),
        };
        sys::set_backlog(fd, backlog.min(65_535) as i32)?;
        match &listener {
            Listener::Tcp(t) => t.set_nonblocking(true)?,
            Listener::Unix(u) => u.set_nonblocking(true)?,
        }
        Ok(listener)
    }

    fn accept(&self) -> io::Result<Stream> {
        match self {
            Listener::Tcp(t) => t.accept().map(|(s, _)| Stream::Tcp(s)),
            Listener::Unix(u) => u.accept().map(|(s, _)| Stream::Unix(s)),
        }
    }
}

// ---------------------------------------------------------------------------
// The app process.

/// What the app puts on the wire for one request.
#[derive(Clone, Debug)]
pub enum Action {
    /// `head` (status line, headers, blank line), then `body`, cut after
    /// `truncate_at` bytes if set.
    Respond { head: Vec<u8>, body: Vec<u8>, truncate_at: Option<usize> },
    /// Read the request, then close: FIN.
    Close,
    /// Read the request, then close with SO_LINGER 0: RST.
    Reset,
    /// Bytes that are not HTTP, then FIN.
    Raw(Vec<u8>),
    /// Never answer (until the peer closes or the upstream stops).
    Hang,
    /// A WebSocket: `head` (101 Switching Protocols), then the connection
    /// stays open, silent, until the peer closes it.
    Tunnel { head: Vec<u8> },
}

/// The app's decision for one request: wait `delay_us`, do `action`, and
/// then the process dies if `die` (restarting after `restart_ms`).
#[derive(Clone, Debug)]
pub struct Plan {
    pub delay_us: u64,
    pub action: Action,
    pub die: bool,
}

/// What the script knows about a request.
#[derive(Clone, Debug)]
pub struct RequestInfo {
    /// Milliseconds since t0 when the request arrived.
    pub at_ms: u64,
    /// The request line as the proxy sent it.
    pub line: String,
    /// 1 for the first request on a connection, 2 for the next...
    pub nth: u32,
    /// The request asks for a WebSocket: `Upgrade: websocket` and a
    /// `Connection` header with `upgrade`.
    pub upgrade: bool,
}

pub type Script = Arc<dyn Fn(&RequestInfo) -> Plan + Send + Sync>;

#[derive(Clone)]
pub struct AppConfig {
    pub name: String,
    pub listen: Listen,
    /// Connections served at the same time (one thread each).
    pub workers: u32,
    /// listen() backlog: connections the kernel queues while all workers are busy.
    pub backlog: u32,
    /// Idle keep-alive connections (HTTP/1.1 without `Connection: close`)
    /// are closed with FIN after this.
    pub keepalive_ms: u64,
    /// The keep-alive race: a request that arrives on a kept-alive
    /// connection idle for at least `keepalive_ms - race_window_ms` is read
    /// and the connection closed without a reply (FIN), as if the idle timer
    /// had fired just as the request came in. The idle close itself is
    /// delayed to `keepalive_ms + race_window_ms` so that the window exists.
    /// 0 disables the emulation.
    pub race_window_ms: u64,
    /// After a death, the port refuses connections for this long.
    pub restart_ms: u64,
    /// Windows `[from, until)` (ms since t0) when nothing listens.
    pub down: Vec<(u64, u64)>,
    /// State changes for `down` windows happen this much early, so that a
    /// request sent exactly at a boundary sees the new state.
    pub lead_ms: u64,
    /// Load shedding: when this many requests already wait for a worker, a
    /// new one is answered at once with these bytes.
    pub shed: Option<(u32, Vec<u8>)>,
    pub script: Script,
}

/// One thing the upstream saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub at_ms: u64,
    pub conn: u64,
    pub what: SeenKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeenKind {
    Accepted,
    /// A request line was read.
    Request(String),
    /// Bytes that are not HTTP arrived (a TLS ClientHello): answered 400.
    NotHttp,
    /// The upstream closed the connection, and why.
    Closed(&'static str),
    Died,
    Restarted,
}

struct Proc {
    running: bool,
    generation: u64,
    restart_at: Option<Instant>,
}

struct Pool {
    busy: u32,
    /// Connections with a request to serve and no worker yet: new ones, and
    /// kept-alive ones whose next request has arrived.
    queue: VecDeque<Conn>,
}

/// A connection and what a worker needs to serve its next request. Between
/// requests a kept-alive connection holds no worker (an event-loop app does
/// not spend a worker on an idle socket): it is parked until its next
/// request arrives or the idle timer fires.
struct Conn {
    id: u64,
    s: Stream,
    /// Requests already served on it.
    served: u32,
    /// When it went idle after its last response (keep-alive).
    idle_since: Option<Instant>,
    /// When the first byte of the next request arrived, if seen while parked.
    arrived: Option<Instant>,
    buf: Vec<u8>,
    /// The process generation that accepted it (0 until a worker takes it).
    generation: Option<u64>,
}

struct Inner {
    cfg: AppConfig,
    stop: AtomicBool,
    born: Instant,
    t0: Mutex<Option<Instant>>,
    listener: Mutex<Option<Listener>>,
    proc_: Mutex<Proc>,
    pool: Mutex<Pool>,
    pool_cv: Condvar,
    /// Clones of the open connections, so a death can close them.
    conns: Mutex<Vec<(u64, Stream)>>,
    next_conn: AtomicU64,
    seen: Mutex<Vec<Seen>>,
}

impl Inner {
    fn alive(&self) -> bool {
        !self.stop.load(Ordering::SeqCst) && self.born.elapsed() < HARD_LIMIT
    }

    fn elapsed_ms(&self) -> u64 {
        match *self.t0.lock().unwrap() {
            Some(t0) => Instant::now().saturating_duration_since(t0).as_millis() as u64,
            None => 0,
        }
    }

    fn note(&self, conn: u64, what: SeenKind) {
        let at_ms = self.elapsed_ms();
        self.seen.lock().unwrap().push(Seen { at_ms, conn, what });
    }

    fn generation(&self) -> u64 {
        self.proc_.lock().unwrap().generation
    }

    fn in_down_window(&self, ms: u64) -> bool {
        self.cfg.down.iter().any(|&(from, until)| ms >= from && ms < until)
    }

    /// The process dies: the listener closes (the kernel resets connections
    /// still in its accept queue) and open connections close with FIN.
    fn die(&self) {
        {
            let mut p = self.proc_.lock().unwrap();
            if !p.running {
                return;
            }
            p.running = false;
            p.generation += 1;
            p.restart_at = Some(Instant::now() + Duration::from_millis(self.cfg.restart_ms));
        }
        // Connections still in the kernel's accept queue die with the
        // listener: RST. They are taken out first only to note which
        // request each carried (peeked, never read), then reset.
        let mut unread = Vec::new();
        if let Some(l) = self.listener.lock().unwrap().take() {
            while let Ok(s) = l.accept() {
                let _ = s.set_nonblocking(false);
                unread.push((self.next_conn.fetch_add(1, Ordering::SeqCst), s));
            }
        }
        let open = std::mem::take(&mut *self.conns.lock().unwrap());
        for (_, s) in &open {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Connections waiting for a worker are gone too (unread): RST.
        unread.extend(std::mem::take(&mut self.pool.lock().unwrap().queue).into_iter().map(|c| (c.id, c.s)));
        for (id, s) in unread {
            if let Some(line) = peek_line(&s) {
                self.note(id, SeenKind::Request(line));
            }
            self.note(id, SeenKind::Closed("RST: the process died with the request unread"));
            let _ = sys::linger_zero(s.fd());
            drop(s);
        }
        self.note(0, SeenKind::Died);
    }

    fn register(&self, id: u64, s: &Stream) {
        if let Ok(c) = s.try_clone() {
            self.conns.lock().unwrap().push((id, c));
        }
    }

    fn deregister(&self, id: u64) {
        self.conns.lock().unwrap().retain(|(i, _)| *i != id);
    }

    /// Sleeps `us`; false if the process died or the upstream stopped meanwhile.
    fn wait(&self, us: u64, generation: u64) -> bool {
        let end = Instant::now() + Duration::from_micros(us);
        loop {
            if !self.alive() || self.generation() != generation {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            thread::sleep((end - now).min(Duration::from_millis(5)));
        }
    }
}

/// A running app. Dropping it stops every thread and closes every socket.
pub struct Upstream {
    inner: Arc<Inner>,
    threads: Vec<JoinHandle<()>>,
}

impl Upstream {
    /// Binds (unless the app is down at time 0) and starts the threads.
    pub fn start(cfg: AppConfig) -> io::Result<Upstream> {
        let workers = cfg.workers.clamp(1, 64);
        let inner = Arc::new(Inner {
            cfg,
            stop: AtomicBool::new(false),
            born: Instant::now(),
            t0: Mutex::new(None),
            listener: Mutex::new(None),
            proc_: Mutex::new(Proc { running: true, generation: 0, restart_at: None }),
            pool: Mutex::new(Pool { busy: 0, queue: VecDeque::new() }),
            pool_cv: Condvar::new(),
            conns: Mutex::new(Vec::new()),
            next_conn: AtomicU64::new(1),
            seen: Mutex::new(Vec::new()),
        });
        if !inner.in_down_window(inner.cfg.lead_ms) {
            *inner.listener.lock().unwrap() = Some(Listener::bind(&inner.cfg.listen, inner.cfg.backlog)?);
        }
        let mut threads = Vec::new();
        let i = inner.clone();
        threads.push(thread::Builder::new().name(format!("{}-supervisor", i.cfg.name)).spawn(move || supervisor(&i))?);
        let i = inner.clone();
        threads.push(thread::Builder::new().name(format!("{}-acceptor", i.cfg.name)).spawn(move || acceptor(&i))?);
        for n in 0..workers {
            let i = inner.clone();
            threads.push(
                thread::Builder::new()
                    .name(format!("{}-worker{n}", i.cfg.name))
                    .stack_size(256 * 1024)
                    .spawn(move || worker(&i))?,
            );
        }
        Ok(Upstream { inner, threads })
    }

    /// Sets time zero (down windows and `RequestInfo::at_ms` count from it).
    pub fn set_t0(&self, t0: Instant) {
        *self.inner.t0.lock().unwrap() = Some(t0);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    /// The request lines this app read, in order.
    pub fn requests(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter_map(|s| match s.what {
                SeenKind::Request(l) => Some(l),
                _ => None,
            })
            .collect()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.pool_cv.notify_all();
        *self.inner.listener.lock().unwrap() = None;
        for (_, s) in std::mem::take(&mut *self.inner.conns.lock().unwrap()) {
            let _ = s.shutdown(Shutdown::Both);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Listen::Unix { path, .. } = &self.inner.cfg.listen {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Restarts after a death and opens/closes the listener for `down` windows.
fn supervisor(i: &Inner) {
    let mut bind_error_noted = false;
    while i.alive() {
        let now = i.elapsed_ms();
        let running = {
            let mut p = i.proc_.lock().unwrap();
            if !p.running && p.restart_at.is_some_and(|t| Instant::now() >= t) {
                p.running = true;
                p.restart_at = None;
                drop(p);
                i.note(0, SeenKind::Restarted);
                true
            } else {
                p.running
            }
        };
        let want = running && !i.in_down_window(now + i.cfg.lead_ms);
        {
            let mut l = i.listener.lock().unwrap();
            if want && l.is_none() {
                match Listener::bind(&i.cfg.listen, i.cfg.backlog) {
                    Ok(b) => *l = Some(b),
                    Err(e) if !bind_error_noted => {
                        eprintln!("fidelity upstream {}: cannot bind {:?}: {e}", i.cfg.name, i.cfg.listen);
                        bind_error_noted = true;
                    }
                    Err(_) => {}
                }
            } else if !want && l.is_some() {
                *l = None;
            }
        }
        sleep_ms(1);
    }
}

/// Accepts a connection only when a worker is free (otherwise it waits in
/// the kernel's accept queue), unless the app sheds load, in which case it
/// accepts everything and answers at once when too many requests wait.
fn acceptor(i: &Arc<Inner>) {
    while i.alive() {
        let (busy, queued) = {
            let p = i.pool.lock().unwrap();
            (p.busy, p.queue.len() as u32)
        };
        let free = busy + queued < i.cfg.workers.clamp(1, 64);
        if !free && i.cfg.shed.is_none() {
            sleep_ms(1);
            continue;
        }
        let accepted = i.listener.lock().unwrap().as_ref().map(Listener::accept);
        let s = match accepted {
            Some(Ok(s)) => s,
            _ => {
                sleep_ms(1);
                continue;
            }
        };
        let _ = s.set_nonblocking(false);
        let id = i.next_conn.fetch_add(1, Ordering::SeqCst);
        i.note(id, SeenKind::Accepted);
        if !free {
            if let Some((threshold, bytes)) = &i.cfg.shed {
                if queued >= *threshold {
                    let (i2, bytes) = (i.clone(), bytes.clone());
                    let _ = thread::Builder::new().stack_size(128 * 1024).spawn(move || shed(&i2, id, s, &bytes));
                    continue;
                }
            }
        }
        requeue(i, Conn { id, s, served: 0, idle_since: None, arrived: None, buf: Vec::new(), generation: None });
    }
}

fn requeue(i: &Inner, c: Conn) {
    let mut p = i.pool.lock().unwrap();
    p.queue.push_back(c);
    i.pool_cv.notify_one();
}

/// A kept-alive connection between requests, without a worker: back to the
/// pool's queue when its next request starts to arrive, closed (FIN) when
/// the idle timer fires first.
fn park(i: &Arc<Inner>, c: Conn) {
    let i2 = i.clone();
    let id = c.id;
    let parked = thread::Builder::new().stack_size(64 * 1024).spawn(move || idle_wait(&i2, c));
    if parked.is_err() {
        i.note(id, SeenKind::Closed("no thread to park an idle connection"));
        i.deregister(id);
    }
}

fn idle_wait(i: &Arc<Inner>, c: Conn) {
    let limit = Duration::from_millis(i.cfg.keepalive_ms + i.cfg.race_window_ms);
    let since = c.idle_since.unwrap_or_else(Instant::now);
    loop {
        if !i.alive() || Some(i.generation()) != c.generation {
            // Stopped, or the process died (which already closed it).
            i.deregister(c.id);
            return;
        }
        let left = limit.saturating_sub(since.elapsed());
        if left.is_zero() {
            i.note(c.id, SeenKind::Closed("keep-alive idle timeout"));
            let _ = c.s.shutdown(Shutdown::Both);
            i.deregister(c.id);
            return;
        }
        if sys::readable(c.s.fd(), left.as_millis().clamp(1, 20) as u64) {
            if sys::peer_closed(c.s.fd()) {
                i.deregister(c.id);
                return;
            }
            requeue(i, Conn { arrived: Some(Instant::now()), ..c });
            return;
        }
    }
}

fn shed(i: &Inner, id: u64, mut s: Stream, bytes: &[u8]) {
    let mut buf = Vec::new();
    if let Ok(req) = read_request(i, &mut s, &mut buf, i.generation(), None, None) {
        i.note(id, SeenKind::Request(req.line));
        thread::sleep(Duration::from_micros(200));
        let _ = s.write_all(bytes);
        i.note(id, SeenKind::Closed("shed"));
    }
    let _ = s.shutdown(Shutdown::Write);
}

fn worker(i: &Arc<Inner>) {
    while i.alive() {
        let job = {
            let mut p = i.pool.lock().unwrap();
            loop {
                if let Some(j) = p.queue.pop_front() {
                    p.busy += 1;
                    break Some(j);
                }
                if !i.alive() {
                    break None;
                }
                p = i.pool_cv.wait_timeout(p, Duration::from_millis(50)).unwrap().0;
            }
        };
        let Some(c) = job else { break };
        let id = c.id;
        if c.served == 0 {
            i.register(id, &c.s);
        }
        if !serve(i, c) {
            i.deregister(id);
        }
        i.pool.lock().unwrap().busy -= 1;
    }
}

struct Request {
    line: String,
    version: String,
    close: bool,
    upgrade: bool,
    /// When the first byte of the request arrived.
    arrived: Instant,
}

enum ReadError {
    /// The peer closed, or the process died, or the upstream stopped.
    Gone,
    /// The idle keep-alive timer fired before a request came.
    Idle,
    /// The first byte is not an HTTP method (a TLS ClientHello).
    NotHttp,
}

/// Reads one request (head and Content-Length body) into `buf`.
fn read_request(
    i: &Inner,
    s: &mut Stream,
    buf: &mut Vec<u8>,
    generation: u64,
    idle: Option<(Instant, Duration)>,
    arrived: Option<Instant>,
) -> Result<Request, ReadError> {
    let _ = s.set_read_timeout(Some(Duration::from_millis(10)));
    let mut arrived = arrived;
    let mut tmp = [0u8; 16 * 1024];
    loop {
        if !i.alive() || i.generation() != generation {
            return Err(ReadError::Gone);
        }
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let mut lines = head.split("\r\n");
            let line = lines.next().unwrap_or("").to_string();
            let mut length = 0usize;
            let mut close = false;
            let (mut upgrade_ws, mut conn_upgrade) = (false, false);
            for h in lines {
                if let Some((k, v)) = h.split_once(':') {
                    let (k, v) = (k.trim(), v.trim());
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.parse().unwrap_or(0);
                    } else if k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close") {
                        close = true;
                    } else if k.eq_ignore_ascii_case("connection") && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade")) {
                        conn_upgrade = true;
                    } else if k.eq_ignore_ascii_case("upgrade") && v.eq_ignore_ascii_case("websocket") {
                        upgrade_ws = true;
                    }
                }
            }
            let upgrade = upgrade_ws && conn_upgrade;
            let total = end + 4 + length;
            while buf.len() < total {
                if !i.alive() || i.generation() != generation {
                    return Err(ReadError::Gone);
                }
                match s.read(&mut tmp) {
                    Ok(0) => return Err(ReadError::Gone),
                    Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                    Err(_) => return Err(ReadError::Gone),
                }
            }
            buf.drain(..total);
            let version = line.rsplit(' ').next().unwrap_or("").to_string();
            return Ok(Request { line, version, close, upgrade, arrived: arrived.unwrap_or_else(Instant::now) });
        }
        if buf.is_empty() {
            if let Some((since, limit)) = idle {
                if since.elapsed() >= limit {
                    return Err(ReadError::Idle);
                }
            }
        }
        match s.read(&mut tmp) {
            Ok(0) => return Err(ReadError::Gone),
            Ok(n) => {
                arrived.get_or_insert_with(Instant::now);
                buf.extend_from_slice(&tmp[..n]);
                if !buf[0].is_ascii_uppercase() {
                    return Err(ReadError::NotHttp);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => return Err(ReadError::Gone),
        }
    }
}

/// The first line of what waits unread in the socket (up to 20 ms for it
/// to arrive), without consuming it.
fn peek_line(s: &Stream) -> Option<String> {
    let Stream::Tcp(t) = s else {
        return None;
    };
    let _ = t.set_read_timeout(Some(Duration::from_millis(5)));
    let mut buf = [0u8; 2048];
    let end = Instant::now() + Duration::from_millis(20);
    while Instant::now() < end {
        if let Ok(n) = t.peek(&mut buf) {
            if let Some(i) = find(&buf[..n], b"\r\n") {
                return Some(String::from_utf8_lossy(&buf[..i]).to_string());
            }
            if n == 0 {
                return None;
            }
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Serves the next request of a connection. True when the connection was
/// kept alive (parked or queued again, still registered), false when it is
/// finished.
fn serve(i: &Arc<Inner>, mut c: Conn) -> bool {
    let generation = *c.generation.get_or_insert_with(|| i.generation());
    let id = c.id;
    let _ = c.s.set_write_timeout(Some(Duration::from_secs(5)));
    let ka = Duration::from_millis(i.cfg.keepalive_ms);
    let window = Duration::from_millis(i.cfg.race_window_ms);
    let nth = c.served + 1;
    let idle = c.idle_since.filter(|_| c.arrived.is_none()).map(|t| (t, ka + window));
    let req = match read_request(i, &mut c.s, &mut c.buf, generation, idle, c.arrived) {
        Ok(r) => r,
        Err(ReadError::Idle) => {
            i.note(id, SeenKind::Closed("keep-alive idle timeout"));
            let _ = c.s.shutdown(Shutdown::Both);
            return false;
        }
        Err(ReadError::NotHttp) => {
            i.note(id, SeenKind::NotHttp);
            let _ = c.s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = c.s.shutdown(Shutdown::Write);
            return false;
        }
        Err(ReadError::Gone) => return false,
    };
    i.note(id, SeenKind::Request(req.line.clone()));
    if let Some(since) = c.idle_since {
        if i.cfg.race_window_ms > 0 && req.arrived.saturating_duration_since(since) + window >= ka {
            i.note(id, SeenKind::Closed("keep-alive race: idle timer fired as the request arrived"));
            let _ = c.s.shutdown(Shutdown::Both);
            return false;
        }
    }
    let plan = (i.cfg.script)(&RequestInfo { at_ms: i.elapsed_ms(), line: req.line.clone(), nth, upgrade: req.upgrade });
    if !i.wait(plan.delay_us, generation) {
        return false;
    }
    let keep = i.cfg.keepalive_ms > 0 && req.version == "HTTP/1.1" && !req.close;
    let mut s = c.s;
    match plan.action {
        Action::Respond { head, body, truncate_at } => {
            let body = match truncate_at {
                Some(n) => &body[..n.min(body.len())],
                None => &body[..],
            };
            let mut out = head;
            out.extend_from_slice(body);
            let _ = s.write_all(&out);
            if plan.die {
                i.die();
                return false;
            }
            if keep {
                let next = Conn { id, s, served: nth, idle_since: Some(Instant::now()), arrived: None, buf: c.buf, generation: Some(generation) };
                if next.buf.is_empty() {
                    park(i, next);
                } else {
                    // The next request is already here (pipelined).
                    requeue(i, Conn { arrived: next.idle_since, ..next });
                }
                return true;
            }
            i.note(id, SeenKind::Closed("response sent"));
            let _ = s.shutdown(Shutdown::Write);
            false
        }
        Action::Close => {
            if plan.die {
                i.die();
            } else {
                i.note(id, SeenKind::Closed("FIN without a reply"));
                let _ = s.shutdown(Shutdown::Both);
            }
            false
        }
        Action::Reset => {
            i.note(id, SeenKind::Closed("RST without a reply"));
            i.deregister(id);
            let _ = sys::linger_zero(s.fd());
            drop(s);
            if plan.die {
                i.die();
            }
            false
        }
        Action::Raw(bytes) => {
            let _ = s.write_all(&bytes);
            if plan.die {
                i.die();
            } else {
                i.note(id, SeenKind::Closed("raw bytes sent"));
                let _ = s.shutdown(Shutdown::Write);
            }
            false
        }
        Action::Tunnel { head } => {
            let _ = s.write_all(&head);
            i.note(id, SeenKind::Closed("WebSocket: 101 sent, the tunnel stays open"));
            let mut tmp = [0u8; 1024];
            let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
            while i.alive() && i.generation() == generation {
                match s.read(&mut tmp) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                    Err(_) => break,
                }
            }
            false
        }
        Action::Hang => {
            let mut tmp = [0u8; 1024];
            let _ = s.set_read_timeout(Some(Duration::from_millis(20)));
            while i.alive() && i.generation() == generation {
                match s.read(&mut tmp) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                    Err(_) => break,
                }
            }
            false
        }
    }
}

// ---------------------------------------------------------------------------
// Connect black hole.

/// A listener with backlog 0 whose accept queue holds one connection that is
/// never accepted: Linux drops every further SYN (the accept queue is
/// full), so a connect() hangs until the proxy's connect timeout.
pub struct BlackHole {
    _listener: TcpListener,
    _filler: TcpStream,
}

impl BlackHole {
    pub fn start(port: u16) -> io::Result<BlackHole> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        sys::set_backlog(listener.as_raw_fd(), 0)?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let filler = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        // Check that the queue is full now: a second SYN must go unanswered.
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => {}
            Ok(_) => return Err(io::Error::other("the kernel still accepts connections on a full backlog-0 listener")),
            Err(e) => return Err(e),
        }
        Ok(BlackHole { _listener: listener, _filler: filler })
    }
}

// ---------------------------------------------------------------------------
// DNS.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsRule {
    /// rcode 3.
    Nxdomain,
    /// rcode 2.
    Servfail,
    /// No answer at all.
    Silent,
    /// An A record (AAAA queries get an empty NOERROR answer).
    A(Ipv4Addr),
}

/// A UDP DNS server on 127.0.0.1 answering by name.
pub struct Dns {
    pub port: u16,
    stop: Arc<AtomicBool>,
    queries: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Dns {
    pub fn start(port: u16, rules: Vec<(String, DnsRule)>, default: DnsRule) -> io::Result<Dns> {
        let sock = UdpSocket::bind((Ipv4Addr::LOCALHOST, port))?;
        sock.set_read_timeout(Some(Duration::from_millis(20)))?;
        let port = sock.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(Mutex::new(Vec::new()));
        let (st, q) = (stop.clone(), queries.clone());
        let born = Instant::now();
        let thread = thread::Builder::new().name("dns".into()).spawn(move || {
            let mut buf = [0u8; 1500];
            while !st.load(Ordering::SeqCst) && born.elapsed() < HARD_LIMIT {
                let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
                let Some((name, qtype, qend)) = parse_question(&buf[..n]) else { continue };
                q.lock().unwrap().push(format!("{name} type {qtype}"));
                let rule = rules.iter().find(|(h, _)| h.eq_ignore_ascii_case(&name)).map(|r| r.1).unwrap_or(default);
                if let Some(reply) = dns_reply(&buf[..qend], qtype, rule) {
                    let _ = sock.send_to(&reply, from);
                }
            }
        })?;
        Ok(Dns { port, stop, queries, thread: Some(thread) })
    }

    pub fn queries(&self) -> Vec<String> {
        self.queries.lock().unwrap().clone()
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// (name, qtype, end of the question section) of a one-question query.
fn parse_question(m: &[u8]) -> Option<(String, u16, usize)> {
    if m.len() < 12 || u16::from_be_bytes([m[4], m[5]]) != 1 {
        return None;
    }
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *m.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(m.get(i..i + len)?).to_string());
        i += len;
    }
    let qtype = u16::from_be_bytes([*m.get(i)?, *m.get(i + 1)?]);
    Some((labels.join("."), qtype, i + 4))
}

fn dns_reply(query: &[u8], qtype: u16, rule: DnsRule) -> Option<Vec<u8>> {
    let rcode: u8 = match rule {
        DnsRule::Silent => return None,
        DnsRule::Nxdomain => 3,
        DnsRule::Servfail => 2,
        DnsRule::A(_) => 0,
    };
    let mut r = query.to_vec();
    r[2] = 0x80 | (query[2] & 0x79); // QR, opcode and RD from the query
    r[3] = 0x80 | rcode; // RA
    let answer = match rule {
        DnsRule::A(ip) if qtype == 1 => Some(ip),
        _ => None,
    };
    r[6..12].copy_from_slice(&[0, answer.is_some() as u8, 0, 0, 0, 0]);
    if let Some(ip) = answer {
        r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
        r.extend_from_slice(&ip.octets());
    }
    Some(r)
}

// ---------------------------------------------------------------------------
// TLS: certificates from the openssl CLI, served by `openssl s_server`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertKind {
    /// Signed by the test CA for the right name.
    Good,
    /// Signed by the test CA, valid 2020-01-01 to 2021-01-01.
    Expired,
    /// Self-signed (not in the trusted CA file).
    SelfSigned,
    /// Signed by the test CA for `other.internal`.
    OtherName,
}

/// A throw-away CA and leaf certificates (EC P-256, made with `openssl`).
pub struct Pki {
    pub dir: PathBuf,
    pub ca: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) -> io::Result<()> {
    let out = Command::new("openssl").args(args).current_dir(dir).stdin(Stdio::null()).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("openssl {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr))))
    }
}

impl Pki {
    pub fn new(dir: &Path) -> io::Result<Pki> {
        std::fs::create_dir_all(dir.join("db"))?;
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend(["-days", "2", "-subj", "/CN=Gateway Lab fidelity CA", "-keyout", "ca.key", "-out", "ca.pem"]);
        openssl(dir, &args)?;
        std::fs::write(dir.join("db/index.txt"), "")?;
        std::fs::write(dir.join("db/serial"), "01\n")?;
        std::fs::write(
            dir.join("ca.cnf"),
            "[ ca ]\ndefault_ca = fid\n[ fid ]\ndir = .\ndatabase = ./db/index.txt\nnew_certs_dir = ./db\nserial = ./db/serial\ndefault_md = sha256\npolicy = pol\ncopy_extensions = copy\nunique_subject = no\n[ pol ]\ncommonName = supplied\n",
        )?;
        Ok(Pki { dir: dir.to_path_buf(), ca: dir.join("ca.pem") })
    }

    /// Makes a certificate for `name` (or a problem with it): (cert, key).
    pub fn leaf(&self, kind: CertKind, name: &str) -> io::Result<(PathBuf, PathBuf)> {
        let tag = format!("{kind:?}").to_lowercase();
        let (crt, key, csr) = (format!("{tag}.pem"), format!("{tag}.key"), format!("{tag}.csr"));
        let cn = if kind == CertKind::OtherName { "other.internal" } else { name };
        let subj = format!("/CN={cn}");
        let san = format!("subjectAltName=DNS:{cn}");
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        if kind == CertKind::SelfSigned {
            let mut a = vec!["req", "-x509"];
            a.extend(ec);
            a.extend(["-days", "2", "-subj", &subj, "-addext", &san, "-keyout", &key, "-out", &crt]);
            openssl(&self.dir, &a)?;
        } else {
            let mut a = vec!["req"];
            a.extend(ec);
            a.extend(["-subj", &subj, "-addext", &san, "-keyout", &key, "-out", &csr]);
            openssl(&self.dir, &a)?;
            let mut a = vec!["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", &csr, "-out", &crt];
            if kind == CertKind::Expired {
                a.extend(["-startdate", "20200101000000Z", "-enddate", "20210101000000Z"]);
            } else {
                a.extend(["-days", "2"]);
            }
            openssl(&self.dir, &a)?;
        }
        Ok((self.dir.join(crt), self.dir.join(key)))
    }
}

/// `openssl s_server` on 127.0.0.1:port with `-HTTP`: it answers `GET /x`
/// with the file `x` of its directory, which holds a whole HTTP response
/// (the app's status line, headers and body), so the app's reply comes
/// back byte for byte; each file it serves
/// and each plain HTTP request it refuses leaves a line on its stderr.
/// Killed on drop.
pub struct TlsServer {
    child: Child,
    /// s_server's stderr: one `…:http request:…` line per plain HTTP
    /// request it read where a ClientHello belonged.
    log: PathBuf,
}

impl TlsServer {
    /// `files`: (request path and query without the leading `/`, the whole
    /// response: head and body).
    pub fn start(port: u16, cert: &Path, key: &Path, files: &[(String, String)]) -> io::Result<TlsServer> {
        let log = cert.with_file_name(format!("s_server-{port}.log"));
        let www = cert.with_file_name(format!("www-{port}"));
        std::fs::create_dir_all(&www)?;
        for (name, body) in files {
            std::fs::write(www.join(name), body)?;
        }
        let child = Command::new("openssl")
            .arg("s_server")
            .arg("-accept")
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .arg("-HTTP")
            .current_dir(&www)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let mut server = TlsServer { child, log };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(io::Error::other(format!("openssl s_server exited: {status}")));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("openssl s_server did not start listening"));
            }
            sleep_ms(10);
        }
    }
}

/// A TLS server that requires SNI for `name` (Python's `ssl`, whose
/// `sni_callback` can refuse a ClientHello without a server name, which
/// `openssl s_server -servername` cannot): alert 40 without SNI, alert 112
/// for another name. Otherwise it serves files as `-HTTP` does and logs
/// `FILE:<path>` per file served, like s_server.
const SNI_SERVER: &str = r#"
import os, socket, ssl, sys, threading
port, want, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
def pick(sslobj, name, c):
    if name is None:
        return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE
    if name.lower() != want.lower():
        return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
    return None
ctx.sni_callback = pick
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', port))
s.listen(64)
def serve(c):
    try:
        t = ctx.wrap_socket(c, server_side=True)
        data = b''
        while b'\r\n\r\n' not in data:
            d = t.recv(65536)
            if not d:
                break
            data += d
        path = data.split(b'\r\n', 1)[0].split(b' ')[1].decode().lstrip('/')
        sys.stderr.write('FILE:' + path + '\n'); sys.stderr.flush()
        with open(path, 'rb') as f:
            t.sendall(f.read())
        t.close()
    except Exception as e:
        sys.stderr.write('error: %s\n' % e); sys.stderr.flush()
        c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"#;

impl TlsServer {
    /// [`SNI_SERVER`] on 127.0.0.1:port, requiring SNI `name`.
    pub fn start_requiring_sni(port: u16, cert: &Path, key: &Path, files: &[(String, String)], name: &str) -> io::Result<TlsServer> {
        let log = cert.with_file_name(format!("sni-server-{port}.log"));
        let www = cert.with_file_name(format!("www-{port}"));
        std::fs::create_dir_all(&www)?;
        for (n, body) in files {
            std::fs::write(www.join(n), body)?;
        }
        let script = cert.with_file_name("sni_server.py");
        std::fs::write(&script, SNI_SERVER)?;
        let child = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(name)
            .arg(cert)
            .arg(key)
            .current_dir(&www)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()?;
        let mut server = TlsServer { child, log };
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(io::Error::other(format!("python3 sni server exited: {status}")));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(io::Error::other("python3 sni server did not start listening"));
            }
            sleep_ms(10);
        }
    }

    /// Plain HTTP requests s_server read instead of a ClientHello (it
    /// closes such a connection at once).
    pub fn plain_http_requests(&self) -> u32 {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().filter(|l| l.contains(":http request:")).count() as u32
    }

    /// The requests it served a file for, as `GET /path?query` (s_server
    /// writes `FILE:path?query`, without a line break between them).
    pub fn served(&self) -> Vec<String> {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.split("FILE:").skip(1).map(|f| format!("GET /{}", f.lines().next().unwrap_or("").trim())).collect()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
