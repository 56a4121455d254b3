//! The shared state of a run: virtual clock, event queue, PRNG, nginx's
//! connection counter, connections, the exchanges (one per client request),
//! the logs and the counters. Proxy flavours, apps and clients act on it;
//! only `engine` advances time.

use serde::Serialize;

use super::failure::FailureCause;
use super::fault::{AppReply, ConnectOutcome};
use super::http::Response;
use super::log::{LogBuffer, LogLine};
use super::queue::EventQueue;
use super::rng::SimRng;
use super::scenario::{RequestSpec, Scenario};
use super::time::{Clock, SimTime};
use super::window::Window;

/// Id of an exchange in `World::exchanges`.
pub type ReqId = usize;
/// Id of a connection in `World::conns`.
pub type ConnId = usize;
/// Id of a client operation in `World::ops`.
pub type OpId = usize;

/// Lines kept per log; older ones are dropped (and counted).
pub const LOG_CAPACITY: usize = 2_000;

/// Timers a proxy can arm for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyTimer {
    Connect { attempt: u32 },
    Read { attempt: u32 },
    /// `proxy_send_timeout`: the request body could not be written.
    Send { attempt: u32 },
    /// `limit_req` delay is over.
    LimitReqDelay,
    /// The resolver did not answer within `resolver_timeout`.
    Resolver,
    /// nginx's `auth_request` subrequest has its answer.
    AuthDone,
    /// An upgraded connection (WebSocket) has been idle for
    /// `proxy_read_timeout`.
    Tunnel,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The client writes its request.
    ClientSend(ReqId),
    /// The request has reached the proxy.
    ProxyReceive(ReqId),
    /// A SYN reaches the app host (`tries` SYNs were sent so far).
    AppSyn { conn: ConnId, syn: u32 },
    /// The handshake's answer is back at the proxy.
    ProxyConnectResult { conn: ConnId, outcome: ConnectOutcome },
    /// The proxied request has reached the app.
    AppRequest { conn: ConnId },
    /// The app writes its response (stale when `generation` moved on).
    AppWrite { conn: ConnId, generation: u64 },
    /// The app has read a large request body: the proxy's write completes.
    ProxyRequestDrained { conn: ConnId },
    /// The app's response has reached the proxy.
    ProxyUpstreamData { conn: ConnId },
    /// The app's FIN (or RST) has reached the proxy.
    ProxyUpstreamClosed { conn: ConnId, reset: bool },
    /// The TLS handshake with the app has finished.
    ProxyTlsDone { conn: ConnId, result: super::app::TlsResult },
    /// An app's idle keep-alive timer fires.
    AppIdleTimeout { conn: ConnId, token: u64 },
    /// The app server aborts the request on `conn` (`Conn::abort`).
    AppAbort { conn: ConnId, generation: u64 },
    /// nginx's upstream `keepalive_timeout` for a cached connection.
    ProxyIdleTimeout { conn: ConnId, token: u64 },
    /// A crashed or killed app process is back (systemd restarted it).
    AppRestarted { app: usize, generation: u64 },
    ProxyTimer { id: ReqId, timer: ProxyTimer },
    /// The proxy's response (or the connection error) has reached the client.
    ClientReceive(ReqId),
    /// The next open-loop arrival.
    ClientArrival,
    /// A client's wait before a retry is over.
    ClientRetry { op: usize },
    /// A try's per-try timeout fires (stale once it finished).
    ClientTimeout(ReqId),
    /// Time to send a hedge of `op` if it still has `tries` tries and no answer.
    ClientHedge { op: usize, tries: usize },
    /// The overall deadline of `op` (stale once it ended).
    ClientDeadline { op: usize },
    /// The client closed its connection (timeout or a cancelled hedge).
    ProxyClientAbort(ReqId),
    /// Something happens at layer `layer` in front of the proxy (`sim::layer`).
    Layer { id: ReqId, layer: u8, what: super::layer::LayerEvent },
}

impl Event {
    /// The request, connection and client operation this event will act
    /// on: they are kept (not retired) while it is queued.
    fn refs(&self) -> (Option<ReqId>, Option<ConnId>, Option<OpId>) {
        match *self {
            Event::ClientSend(id)
            | Event::ProxyReceive(id)
            | Event::ProxyTimer { id, .. }
            | Event::ClientReceive(id)
            | Event::ClientTimeout(id)
            | Event::ProxyClientAbort(id)
            | Event::Layer { id, .. } => (Some(id), None, None),
            Event::AppSyn { conn, .. }
            | Event::ProxyConnectResult { conn, .. }
            | Event::AppRequest { conn }
            | Event::AppWrite { conn, .. }
            | Event::ProxyRequestDrained { conn }
            | Event::ProxyUpstreamData { conn }
            | Event::ProxyUpstreamClosed { conn, .. }
            | Event::ProxyTlsDone { conn, .. }
            | Event::AppIdleTimeout { conn, .. }
            | Event::AppAbort { conn, .. }
            | Event::ProxyIdleTimeout { conn, .. } => (None, Some(conn), None),
            Event::ClientRetry { op } | Event::ClientHedge { op, .. } | Event::ClientDeadline { op } => (None, None, Some(op)),
            Event::AppRestarted { .. } | Event::ClientArrival => (None, None, None),
        }
    }
}

/// Who did something, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    Client,
    Proxy,
    App,
    Kernel,
    /// A layer in front of the proxy (Cloudflare, an ALB).
    Edge,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Client => "client",
            Actor::Proxy => "proxy",
            Actor::App => "app",
            Actor::Kernel => "kernel",
            Actor::Edge => "edge",
        }
    }
}

/// One entry of the structured trace: (time, actor, what happened).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    pub at: SimTime,
    pub actor: Actor,
    pub text: String,
}

/// How one proxy→upstream attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    InProgress,
    /// The connection failed, broke or timed out, or the response was
    /// unusable: why, as data (the proxies format their log text from it).
    Failed { cause: FailureCause },
    /// An HTTP answer (possibly passed to the client, possibly retried).
    Responded { status: u16 },
    /// The client went away first; the proxy closed the upstream connection.
    ClientClosed,
}

impl AttemptResult {
    /// Why the attempt failed, if it did.
    pub fn cause(&self) -> Option<&FailureCause> {
        match self {
            AttemptResult::Failed { cause } => Some(cause),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// Peer address as nginx names it (`127.0.0.1:3000`, `unix:/x.sock`).
    pub peer: String,
    /// Index of the peer in the upstream block (None: implicit upstream).
    pub server: Option<usize>,
    /// nginx connection number of the upstream connection.
    pub connection: u64,
    /// The connection came from the keepalive cache.
    pub reused: bool,
    pub started: SimTime,
    /// When the proxy wrote the request on this connection (its read timer
    /// starts then); None while connecting, or if it never got that far.
    #[serde(skip)]
    pub sent: Option<SimTime>,
    pub ended: Option<SimTime>,
    pub result: AttemptResult,
}

/// What the client ended up with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientResult {
    /// A complete HTTP response.
    Response,
    /// Headers arrived, then the connection broke (curl error 18). With
    /// no `response` the connection closed before a byte arrived (curl
    /// error 52, "Empty reply from server"; `received` is 0).
    /// `received` counts body (payload) bytes; `expected` is the
    /// Content-Length, or None for a chunked body (no length known).
    Truncated { received: u64, expected: Option<u64> },
    /// Not an HTTP response (curl: "Received HTTP/0.9 when not allowed").
    Http09,
    /// Could not connect to the proxy at all (curl error 7).
    ConnectFailed,
    /// The per-try timeout fired first (curl error 28); the client closed the connection.
    TimedOut,
    /// Another copy of a hedged request answered first; this one was abandoned.
    Cancelled,
    /// The circuit breaker was open: the request never left the client.
    Rejected,
    /// The proxy reset the connection before sending a byte (curl error
    /// 56, "Recv failure: Connection reset by peer"): nginx had no
    /// connection slot for it (worker_connections).
    Reset,
}

/// One client request and everything that happened to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exchange {
    pub id: ReqId,
    /// The client operation (logical request) this try belongs to.
    pub op: usize,
    /// 0 for the first try, 1 for the first retry...
    pub try_no: u32,
    /// Shared by the tries of an operation (and a burst's requests); `Arc`,
    /// not `Rc`: the page keeps exchanges in signals, which must be `Send`.
    pub request: std::sync::Arc<RequestSpec>,
    pub client_ip: std::sync::Arc<str>,
    pub sent_at: SimTime,
    /// nginx connection number of the client connection (`*N` in error.log).
    pub client_connection: u64,
    pub attempts: Vec<Attempt>,
    /// The response the client received (headers and the body bytes that arrived).
    pub response: Option<Response>,
    pub client_result: Option<ClientResult>,
    /// Status nginx logged in access.log (may differ from the response, e.g. 009).
    pub logged_status: Option<u16>,
    pub finished_at: Option<SimTime>,
    /// The error.log lines this request produced, with their levels.
    pub error_lines: Vec<LogLine>,
    pub access_line: Option<String>,
    /// What the client printed (curl-style).
    pub console: Vec<String>,
    /// The engine's explanation of the outcome.
    pub explanation: Option<String>,
    pub timeline: Vec<Step>,
    /// A half-open circuit breaker's trial call.
    pub probe: bool,
    /// What each layer in front of the proxy did, in the order they did it
    /// (empty without layers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<super::layer::LayerHop>,
    /// The request's way through the layers.
    #[serde(skip)]
    pub layers_trace: super::layer::Trace,
    /// Proxy-side state of the request.
    #[serde(skip)]
    pub proxy: ProxyRequestState,
    /// Queued events and connections (`Conn::req`) that refer to it.
    #[serde(skip)]
    pub(crate) refs: u32,
}

impl Exchange {
    pub fn request_line(&self) -> String {
        format!("{} {} HTTP/1.1", self.request.method, self.request.path)
    }

    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }

    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }

    /// The request succeeded: the client got a complete HTTP response
    /// (`ClientResult::Response`) with a 2xx or 3xx status, or 101.
    pub fn succeeded(&self) -> bool {
        // 101: a WebSocket upgrade that went through.
        matches!(self.client_result, Some(ClientResult::Response)) && self.status().is_some_and(|s| s == 101 || (200..400).contains(&s))
    }

    /// How the request ended, for colouring it (see [`OutcomeClass`]).
    pub fn outcome_class(&self) -> OutcomeClass {
        if !self.is_finished() {
            return OutcomeClass::Pending;
        }
        if self.succeeded() {
            return OutcomeClass::Ok;
        }
        match (&self.client_result, self.status()) {
            (Some(ClientResult::Cancelled), _) => OutcomeClass::Cancelled,
            (Some(ClientResult::Response), Some(400..=499)) => OutcomeClass::ClientError,
            _ => OutcomeClass::Failure,
        }
    }

    /// The most severe error.log line this request produced (the last of
    /// equals), by level.
    pub fn worst_error_line(&self) -> Option<&LogLine> {
        // Levels order from the most severe; reversed, the last of equals wins.
        self.error_lines.iter().rev().min_by_key(|l| l.level)
    }
}

/// How a request ended, in the classes the page colours it by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeClass {
    /// Not finished yet.
    Pending,
    /// [`Exchange::succeeded`]: a complete 2xx/3xx response.
    Ok,
    /// A complete 4xx response: the request was refused (rate limit,
    /// not found...), not broken.
    ClientError,
    /// Everything else: a 5xx, a response cut short or not HTTP, no
    /// connection, a timeout, the circuit breaker.
    Failure,
    /// A hedged copy abandoned because another copy answered first.
    Cancelled,
}

impl OutcomeClass {
    /// The CSS class the page and the embed use: ok, warn, fail or pending.
    pub fn css(self) -> &'static str {
        match self {
            OutcomeClass::Pending => "pending",
            OutcomeClass::Ok => "ok",
            OutcomeClass::ClientError | OutcomeClass::Cancelled => "warn",
            OutcomeClass::Failure => "fail",
        }
    }
}

/// nginx's per-request upstream state (`ngx_http_upstream_t` in spirit).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProxyRequestState {
    /// Tries left (`u->peer.tries`).
    pub tries: u32,
    /// When the first attempt started (`proxy_next_upstream_timeout`).
    pub start: Option<SimTime>,
    /// Peers already tried (bit per server index, primary and backup).
    pub tried: Vec<bool>,
    /// Using the backup servers now.
    pub on_backup: bool,
    /// The connection of the current attempt.
    pub conn: Option<ConnId>,
    /// The request has been written to the upstream.
    pub request_sent: bool,
    /// Response has been sent to the client.
    pub done: bool,
    /// A resolved address (resolver at run time).
    pub resolved: Option<String>,
}

/// Where a proxy→app connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// SYN sent, no answer yet.
    Connecting,
    /// Carrying a request.
    Active,
    /// In nginx's keepalive cache.
    Idle,
    Closed,
}

/// A proxy→app TCP (or unix) connection.
#[derive(Clone, Debug, PartialEq)]
pub struct Conn {
    /// nginx's connection number.
    pub number: u64,
    /// The app process it reached (None until accepted, or nobody listens).
    pub app: Option<usize>,
    pub server: Option<usize>,
    pub peer: String,
    pub state: ConnState,
    /// The request it carries.
    pub req: Option<ReqId>,
    /// The attempt index within that request.
    pub attempt: u32,
    /// The app has read the request on it (a worker holds it).
    pub read_by_app: bool,
    /// Waiting in the app's queue for a worker.
    pub queued: bool,
    /// A worker of the app is busy with this connection's request.
    pub holds_worker: bool,
    /// Requests completed on it.
    pub served: u32,
    /// Bumped whenever the app's idle timer must be ignored.
    pub idle_token: u64,
    /// Bumped whenever nginx's keepalive_timeout timer must be ignored.
    pub proxy_idle_token: u64,
    /// The app has closed its end (FIN sent).
    pub app_closed: bool,
    /// The connection may be kept alive after this response.
    pub keepalive: bool,
    /// The app's reply, carried from the app to the proxy.
    pub reply: Option<AppReply>,
    /// Process generation of the app when it accepted this connection.
    pub generation: u64,
    /// What the app server does to the request instead of answering it
    /// (`sim::server::Abort`), due at an `AppAbort` event.
    pub abort: Option<super::server::Abort>,
    /// PHP-FPM's FastCGI stderr record with its reply (nginx logs it).
    pub fcgi_stderr: Option<&'static str>,
    /// The app's worker (slot) that took the request.
    pub slot: Option<usize>,
    /// Queued events and requests (`ProxyRequestState::conn`) that refer to it.
    pub(crate) refs: u32,
}

/// One logical client request and its tries (retries are new exchanges).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientOp {
    pub tries: Vec<ReqId>,
    pub started: SimTime,
    pub finished: Option<SimTime>,
    /// Ended with a response the client accepts.
    pub ok: bool,
    /// The previous wait, for decorrelated jitter (µs).
    pub last_wait_us: u64,
    /// How it ended, as a retry policy names outcomes ("200", "502",
    /// "timeout", "connect_error", "error", "breaker_open"); empty while running.
    pub outcome: String,
    /// Some(User-Agent) for a one-off request from a command-line tool on
    /// the proxy host (the diagnosis terminal's curl): it sends its own
    /// User-Agent, and the clients' retry policy and guards do not apply.
    #[serde(skip)]
    pub user_agent: Option<String>,
    /// Queued events that refer to it.
    #[serde(skip)]
    pub(crate) refs: u32,
}

/// Counters that must add up (see the property tests).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub requests_sent: u64,
    pub requests_finished: u64,
    /// Client-visible outcomes by status (0 = no HTTP status).
    pub by_status: std::collections::BTreeMap<u16, u64>,
    pub upstream_attempts: u64,
    pub upstream_connections: u64,
    pub keepalive_reuses: u64,
    pub app_requests_read: u64,
    pub app_responses_written: u64,
    pub app_crashes: u64,
    pub syns_dropped: u64,
    /// Client operations that ended, and how many of them succeeded.
    pub ops_finished: u64,
    pub ops_ok: u64,
    pub client_retries: u64,
    /// Tries the client abandoned after its per-try timeout.
    pub client_timeouts: u64,
    /// Extra copies sent by hedging, and copies abandoned when another answered.
    pub hedges: u64,
    pub hedges_cancelled: u64,
    /// Tries the circuit breaker did not let out.
    pub breaker_rejections: u64,
    /// Retries refused by the retry budget or by the gRPC throttle.
    pub budget_denied: u64,
    pub throttle_denied: u64,
}

/// One entry of the proxy unit's journal (`World::proxy_journal`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitEntry {
    /// The proxy was started at `at` and came up (`ok`) or failed; it
    /// printed `World::proxy_stderr`'s lines `stderr.0..stderr.1` (counted
    /// over every line ever written). The terminal's journal renders it.
    Start { at: SimTime, ok: bool, stderr: (u64, u64) },
    /// A journal line as journald prints it (`Nov 21 04:43:44 web1 systemd[1]: …`).
    Line(String),
}

impl World {
    /// Adds an entry to the proxy unit's journal (the newest `LOG_CAPACITY` stay).
    pub fn unit_entry(&mut self, entry: UnitEntry) {
        if self.proxy_journal.len() >= LOG_CAPACITY {
            self.proxy_journal.pop_front();
        }
        self.proxy_journal.push_back(entry);
    }
}

pub struct World {
    pub now: SimTime,
    pub clock: Clock,
    /// The scenario the user gave.
    pub base: Scenario,
    /// The scenario the engine runs: `base` with every fault's `configure` applied.
    pub scenario: Scenario,
    /// The upstream's draws: latencies, fault coin flips (stream 0).
    pub rng: SimRng,
    /// The clients' arrival gaps (stream 1) and their retry jitter (stream
    /// 2): two strategies on the same seed get the same arrivals.
    pub arrival_rng: SimRng,
    pub retry_rng: SimRng,
    /// The layers' draws: Ray IDs, client ports, trace ids (stream 3), so a
    /// layer changes no other draw.
    pub layer_rng: SimRng,
    /// Each layer's log, parallel to `scenario.layers`.
    pub layer_logs: Vec<LogBuffer>,
    pub(crate) queue: EventQueue<Event>,
    next_connection: u64,
    /// Every try of every request, by id; the oldest finished ones are
    /// retired when `retain` says so.
    pub exchanges: Window<Exchange>,
    /// Proxy→app connections, by id; closed ones are retired with them.
    pub conns: Window<Conn>,
    pub error_log: LogBuffer,
    pub access_log: LogBuffer,
    pub app_log: LogBuffer,
    /// The clients' consoles, interleaved.
    pub console: LogBuffer,
    /// What nginx printed on stderr (start-up failures go there, not to error.log).
    pub proxy_stderr: LogBuffer,
    pub stats: Stats,
    /// Events processed so far.
    pub events_processed: u64,
    /// Keep per-request timelines (off for very large runs).
    pub record_timelines: bool,
    /// Keep each request's details (headers, body, log copies, console,
    /// explanation) once it has ended. Off for the retry lab and `--metrics`,
    /// which only count: see `compact`. Off, the engine does not even make
    /// them, nor the per-request log lines (error.log, access.log, console,
    /// the app's response lines): nothing a run only measured shows reads them.
    pub keep_details: bool,
    /// The proxy process is up (nginx refuses to start on some errors).
    pub proxy_running: bool,
    /// Since when the proxy service is in its current state (running since,
    /// or failed since): the last start that changed it.
    pub proxy_since: SimTime,
    /// `systemctl stop` (or `nginx -s`'s signals) stopped the proxy: it is
    /// inactive, not failed, and the page's changes do not start it.
    pub proxy_stopped: bool,
    /// What service commands did to the proxy's unit (starts, and the
    /// journal lines of stops and reloads), oldest first: the newest
    /// `LOG_CAPACITY`. Empty until the first one; its first entry is then
    /// the start the run began with.
    pub proxy_journal: std::collections::VecDeque<UnitEntry>,
    /// Processes started on the host by the terminal (`nginx -t`, …), for
    /// their process ids.
    pub spawned: u32,
    /// Service commands run (`systemctl start|stop|restart|reload`, `nginx
    /// -s reload`): the page re-renders when it moves, even if no request
    /// or virtual time did.
    pub service_commands: u64,
    /// The app processes, parallel to `scenario.apps`.
    pub apps: Vec<super::app::AppProc>,
    /// Client operations (logical requests), by id; retired with their tries.
    pub ops: Window<ClientOp>,
    /// Keep at most this many requests (tries) once they can be retired,
    /// and as many connections and client operations; `None` keeps every
    /// one (a run that ends). See `retire`.
    pub retain: Option<usize>,
    /// `exchanges.len()` at the last `retire`.
    retired_at: usize,
    /// The clients' circuit breaker, retry budget and throttle.
    pub guards: super::client::guards::Guards,
}

impl World {
    pub fn new(base: Scenario) -> Self {
        let scenario = effective(&base);
        let base_retry = base.clients.retry.clone();
        World {
            now: SimTime::ZERO,
            clock: Clock::new(base.start_unix),
            rng: SimRng::seeded(base.seed),
            arrival_rng: SimRng::stream(base.seed, 1),
            retry_rng: SimRng::stream(base.seed, 2),
            layer_rng: SimRng::stream(base.seed, 3),
            layer_logs: (0..scenario.layers.len()).map(|_| LogBuffer::new(LOG_CAPACITY)).collect(),
            record_timelines: true,
            keep_details: true,
            base,
            scenario,
            queue: EventQueue::default(),
            next_connection: 1,
            exchanges: Window::new(),
            conns: Window::new(),
            error_log: LogBuffer::new(LOG_CAPACITY),
            access_log: LogBuffer::new(LOG_CAPACITY),
            app_log: LogBuffer::new(LOG_CAPACITY),
            console: LogBuffer::new(LOG_CAPACITY),
            proxy_stderr: LogBuffer::new(LOG_CAPACITY),
            stats: Stats::default(),
            events_processed: 0,
            proxy_running: true,
            proxy_since: SimTime::ZERO,
            proxy_stopped: false,
            proxy_journal: std::collections::VecDeque::new(),
            spawned: 0,
            service_commands: 0,
            apps: Vec::new(),
            ops: Window::new(),
            retain: None,
            retired_at: 0,
            guards: super::client::guards::Guards::new(&base_retry),
        }
        .with_apps()
    }

    fn with_apps(mut self) -> Self {
        self.sync_apps();
        self
    }

    /// One process per `scenario.apps` entry: new apps start, removed ones
    /// go; the others keep their state.
    pub fn sync_apps(&mut self) {
        let n = self.scenario.apps.len();
        self.apps.truncate(n);
        while self.apps.len() < n {
            let i = self.apps.len();
            self.apps.push(super::app::AppProc::new(i));
        }
    }

    /// Schedules `event` `delay_us` after now.
    pub fn schedule(&mut self, delay_us: u64, event: Event) {
        self.refer(&event, true);
        self.queue.push(self.now.plus_us(delay_us), event);
    }

    pub fn schedule_at(&mut self, at: SimTime, event: Event) {
        self.refer(&event, true);
        self.queue.push(at.max(self.now), event);
    }

    /// The next event, no longer counted as a reference (`refs`).
    pub(crate) fn next_event(&mut self) -> Option<(SimTime, Event)> {
        let (at, event) = self.queue.pop()?;
        self.refer(&event, false);
        Some((at, event))
    }

    /// Counts (`add`) or uncounts a queued event's references (out of
    /// line: `schedule` is called from many places).
    #[inline(never)]
    fn refer(&mut self, event: &Event, add: bool) {
        let (req, conn, op) = event.refs();
        if let Some(e) = req.and_then(|id| self.exchanges.get_mut(id)) {
            e.refs = if add { e.refs + 1 } else { e.refs - 1 };
        }
        if let Some(c) = conn.and_then(|id| self.conns.get_mut(id)) {
            c.refs = if add { c.refs + 1 } else { c.refs - 1 };
        }
        if let Some(o) = op.and_then(|id| self.ops.get_mut(id)) {
            o.refs = if add { o.refs + 1 } else { o.refs - 1 };
        }
    }

    /// Sets the connection request `id`'s current attempt uses (counted in
    /// `Conn::refs`); returns the previous one.
    pub fn set_req_conn(&mut self, id: ReqId, conn: Option<ConnId>) -> Option<ConnId> {
        let old = std::mem::replace(&mut self.exchanges[id].proxy.conn, conn);
        if let Some(c) = old.and_then(|c| self.conns.get_mut(c)) {
            c.refs -= 1;
        }
        if let Some(c) = conn {
            self.conns[c].refs += 1;
        }
        old
    }

    /// Sets the request connection `conn` carries (counted in
    /// `Exchange::refs`).
    pub fn set_conn_req(&mut self, conn: ConnId, req: Option<ReqId>) {
        let old = std::mem::replace(&mut self.conns[conn].req, req);
        if let Some(e) = old.and_then(|id| self.exchanges.get_mut(id)) {
            e.refs -= 1;
        }
        if let Some(id) = req {
            self.exchanges[id].refs += 1;
        }
    }

    /// One-way latency of a network hop.
    pub fn hop(&self) -> u64 {
        self.scenario.hop_latency_us
    }

    /// nginx's connection counter (`ngx_connection_counter`): client and
    /// upstream connections draw from the same sequence.
    pub fn next_connection_number(&mut self) -> u64 {
        let n = self.next_connection;
        self.next_connection += 1;
        n
    }

    /// Gives back the last number drawn (a connection nginx could not take).
    pub fn undo_connection_number(&mut self) {
        self.next_connection -= 1;
    }

    /// Turns per-request details off (and timelines with them), for runs
    /// that are only measured.
    pub fn measure_only(&mut self) {
        self.record_timelines = false;
        self.keep_details = false;
    }

    /// Without `keep_details`, drops what only a person reading one request
    /// needs, keeping what `metrics` counts (status, result, attempts, times).
    pub fn compact(&mut self, id: ReqId) {
        if self.keep_details {
            return;
        }
        let Some(ex) = self.exchanges.get_mut(id) else { return };
        if let Some(r) = ex.response.as_mut() {
            r.reason = Default::default();
            r.headers = Vec::new();
            r.body = Default::default();
        }
        ex.console = Vec::new();
        ex.access_line = None;
        ex.error_lines = Vec::new();
        ex.explanation = None;
        ex.timeline = Vec::new();
        for a in &mut ex.attempts {
            if let AttemptResult::Failed { cause: FailureCause::InvalidHeader { line } } = &mut a.result {
                *line = String::new();
            }
        }
    }

    /// Whether `retire` has work: with `retain = Some(n)`, every `n / 4`
    /// (at least 16) new requests.
    pub(crate) fn retire_due(&self) -> bool {
        self.retain.is_some_and(|n| self.exchanges.len() >= self.retired_at + (n / 4).max(16))
    }

    /// Forgets the oldest records that nothing can reach any more, keeping
    /// the newest `retain` ids of each kind (a run with `retain = None`
    /// keeps everything). What makes a record unreachable:
    /// - a connection: closed by the proxy; no worker or queue slot at the
    ///   app (or the process that accepted it is gone); no queued event and
    ///   no request that still names it (`refs == 0`). If the app still
    ///   lists it as open, idle, it is dropped from that list;
    /// - a request (try): finished, its client operation finished, no
    ///   queued event and no connection that still carries it;
    /// - a client operation: finished, no queued event, all its tries gone.
    ///
    /// Nothing observable changes: logs, counters and every kept record are
    /// the same as in a run that keeps all (tested in `tests/retention.rs`).
    pub fn retire(&mut self) {
        let Some(n) = self.retain else { return };
        self.retired_at = self.exchanges.len();
        let end = self.conns.len().saturating_sub(n);
        for id in self.conns.first_id()..end {
            let Some(c) = self.conns.get(id) else { continue };
            // Only the process that accepted it can still work on it (in its
            // queue, or a worker on it); after a crash its flags are stale.
            let same_process = c.app.filter(|&a| self.apps.get(a).is_some_and(|p| p.generation == c.generation));
            if c.state != ConnState::Closed || c.refs > 0 || (same_process.is_some() && (c.holds_worker || c.queued)) {
                continue;
            }
            let (req, app_closed) = (c.req, c.app_closed);
            // The app may still list it as open with nothing to do on it (the
            // proxy closed it after a failed TLS handshake or a timeout; the
            // engine does not model the app reading that FIN). Its list is
            // swept lazily and drops connections that are no longer kept:
            // count this one as closed there.
            if let (Some(a), false) = (same_process, app_closed) {
                self.apps[a].closed_in_open += 1;
            }
            self.conns.retire(id);
            if let Some(e) = req.and_then(|r| self.exchanges.get_mut(r)) {
                e.refs -= 1;
            }
        }
        let end = self.exchanges.len().saturating_sub(n);
        for id in self.exchanges.first_id()..end {
            let Some(e) = self.exchanges.get(id) else { continue };
            let op_done = self.ops.get(e.op).is_none_or(|o| o.finished.is_some());
            if !e.is_finished() || e.refs > 0 || !op_done {
                continue;
            }
            if let Some(e) = self.exchanges.retire(id) {
                if let Some(c) = e.proxy.conn.and_then(|c| self.conns.get_mut(c)) {
                    c.refs -= 1;
                }
            }
        }
        let end = self.ops.len().saturating_sub(n);
        for id in self.ops.first_id()..end {
            let Some(o) = self.ops.get(id) else { continue };
            if o.finished.is_some() && o.refs == 0 && o.tries.iter().all(|&t| self.exchanges.get(t).is_none()) {
                self.ops.retire(id);
            }
        }
    }

    /// Checks the bookkeeping `retire` relies on: every `refs` count equals
    /// what refers to the record, and nothing kept or queued names a
    /// retired record. For tests; `Err` lists what is wrong.
    pub fn audit(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let mut ex_refs = vec![0u32; self.exchanges.len()];
        let mut conn_refs = vec![0u32; self.conns.len()];
        let mut op_refs = vec![0u32; self.ops.len()];
        for event in self.queue.iter() {
            let (req, conn, op) = event.refs();
            if let Some(id) = req {
                if self.exchanges.get(id).is_none() {
                    problems.push(format!("queued {event:?} names retired request #{id}"));
                }
                ex_refs[id] += 1;
            }
            if let Some(id) = conn {
                if self.conns.get(id).is_none() {
                    problems.push(format!("queued {event:?} names retired connection #{id}"));
                }
                conn_refs[id] += 1;
            }
            if let Some(id) = op {
                if self.ops.get(id).is_none() {
                    problems.push(format!("queued {event:?} names retired operation #{id}"));
                }
                op_refs[id] += 1;
            }
        }
        for (id, c) in self.conns.enumerate() {
            if let Some(r) = c.req {
                if self.exchanges.get(r).is_none() {
                    problems.push(format!("connection #{id} carries retired request #{r}"));
                }
                ex_refs[r] += 1;
            }
        }
        for (id, e) in self.exchanges.enumerate() {
            if let Some(c) = e.proxy.conn {
                if self.conns.get(c).is_none() {
                    problems.push(format!("request #{id} uses retired connection #{c}"));
                }
                conn_refs[c] += 1;
            }
            if self.ops.get(e.op).is_none() {
                problems.push(format!("request #{id} belongs to retired operation #{}", e.op));
            }
            if e.refs != ex_refs[id] {
                problems.push(format!("request #{id}: refs {} but {} refer to it", e.refs, ex_refs[id]));
            }
        }
        for (id, c) in self.conns.enumerate() {
            if c.refs != conn_refs[id] {
                problems.push(format!("connection #{id}: refs {} but {} refer to it", c.refs, conn_refs[id]));
            }
        }
        for (id, o) in self.ops.enumerate() {
            if o.refs != op_refs[id] {
                problems.push(format!("operation #{id}: refs {} but {} refer to it", o.refs, op_refs[id]));
            }
        }
        for a in &self.apps {
            // (`open` may still list retired connections until its next sweep:
            // they were closed, and the sweep and `die` skip them.)
            for &c in &a.waiting {
                if self.conns.get(c).is_none() {
                    problems.push(format!("app {} has retired connection #{c} in its queue", a.index));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    pub fn note(&mut self, id: ReqId, actor: Actor, text: impl Into<String>) {
        if self.record_timelines {
            let at = self.now;
            self.exchanges[id].timeline.push(Step { at, actor, text: text.into() });
        }
    }

    /// Adds a request to the run; it is sent at `at`.
    pub fn add_request(&mut self, request: impl Into<std::sync::Arc<RequestSpec>>, client_ip: impl Into<std::sync::Arc<str>>, at: SimTime) -> ReqId {
        let op = self.ops.push(ClientOp {
            tries: Vec::new(),
            started: at,
            finished: None,
            ok: false,
            last_wait_us: 0,
            outcome: String::new(),
            user_agent: None,
            refs: 0,
        });
        self.add_try(op, 0, request, client_ip, at)
    }

    /// Adds a one-off request from a command-line tool (see
    /// `ClientOp::user_agent`); it is sent at `at`.
    pub fn add_tool_request(&mut self, request: RequestSpec, client_ip: impl Into<std::sync::Arc<str>>, at: SimTime, user_agent: &str) -> ReqId {
        let id = self.add_request(request, client_ip, at);
        let op = self.exchanges[id].op;
        self.ops[op].user_agent = Some(user_agent.to_string());
        id
    }

    /// Adds try `try_no` of client operation `op`, sent at `at`.
    pub fn add_try(&mut self, op: usize, try_no: u32, request: impl Into<std::sync::Arc<RequestSpec>>, client_ip: impl Into<std::sync::Arc<str>>, at: SimTime) -> ReqId {
        let id = self.exchanges.len();
        self.ops[op].tries.push(id);
        self.exchanges.push(Exchange {
            id,
            op,
            try_no,
            request: request.into(),
            client_ip: client_ip.into(),
            sent_at: at,
            client_connection: 0,
            attempts: Vec::new(),
            response: None,
            client_result: None,
            logged_status: None,
            finished_at: None,
            error_lines: Vec::new(),
            access_line: None,
            console: Vec::new(),
            explanation: None,
            timeline: Vec::new(),
            probe: false,
            layers: Vec::new(),
            layers_trace: Default::default(),
            proxy: ProxyRequestState::default(),
            refs: 0,
        });
        self.schedule_at(at, Event::ClientSend(id));
        id
    }

    /// Ends request `id`'s current upstream attempt with `result` (once).
    pub fn end_attempt(&mut self, id: ReqId, result: AttemptResult) {
        let now = self.now;
        if let Some(a) = self.exchanges[id].attempts.last_mut() {
            if a.ended.is_none() {
                a.ended = Some(now);
                a.result = result;
            }
        }
    }

    /// Opens a proxy→app connection record.
    pub fn open_conn(&mut self, peer: String, server: Option<usize>, req: ReqId, attempt: u32) -> ConnId {
        let number = self.next_connection_number();
        self.stats.upstream_connections += 1;
        self.conns.push(Conn {
            number,
            app: None,
            server,
            peer,
            state: ConnState::Connecting,
            req: Some(req),
            attempt,
            read_by_app: false,
            queued: false,
            holds_worker: false,
            served: 0,
            idle_token: 0,
            proxy_idle_token: 0,
            app_closed: false,
            keepalive: false,
            reply: None,
            generation: 0,
            abort: None,
            fcgi_stderr: None,
            slot: None,
            refs: 0,
        });
        let conn = self.conns.len() - 1;
        self.exchanges[req].refs += 1;
        conn
    }

    /// Records the next attempt of request `id`, on `conn` (new or reused
    /// from a keepalive cache).
    pub fn begin_attempt(&mut self, id: ReqId, conn: ConnId, reused: bool) {
        let c = &self.conns[conn];
        let attempt = Attempt {
            peer: c.peer.clone(),
            server: c.server,
            connection: c.number,
            reused,
            started: self.now,
            sent: None,
            ended: None,
            result: AttemptResult::InProgress,
        };
        self.exchanges[id].attempts.push(attempt);
        self.set_req_conn(id, Some(conn));
        self.stats.upstream_attempts += 1;
    }

    /// The proxy writes request `id` to its current attempt's connection now.
    pub fn request_sent(&mut self, id: ReqId) {
        let now = self.now;
        let ex = &mut self.exchanges[id];
        ex.proxy.request_sent = true;
        if let Some(a) = ex.attempts.last_mut() {
            a.sent.get_or_insert(now);
        }
    }

    /// Opens a new connection for the next attempt of request `id` and
    /// sends its SYN (the flavour arms its own connect timer).
    pub fn connect_attempt(&mut self, id: ReqId, peer: String, server: Option<usize>) -> ConnId {
        let attempt = self.exchanges[id].attempts.len() as u32;
        let conn = self.open_conn(peer, server, id, attempt);
        self.begin_attempt(id, conn, false);
        self.exchanges[id].proxy.request_sent = false;
        let hop = self.hop();
        self.schedule(hop, Event::AppSyn { conn, syn: 0 });
        conn
    }

    /// A process id for a process the terminal starts now (`nginx -t`, a
    /// reload's signaller): above every process the scenario names, in the
    /// order they are started, as Linux hands them out.
    pub fn spawn_pid(&mut self) -> u32 {
        self.spawned = self.spawned.saturating_add(1);
        let highest = self.scenario.apps.iter().map(|a| a.pid).chain([self.scenario.proxy.worker_pid]).max().unwrap_or(0);
        highest.saturating_add(self.spawned)
    }

    /// Calendar seconds now (nginx's `ngx_time()`).
    pub fn unix_secs(&self) -> i64 {
        self.base.start_unix.saturating_add((self.now.as_micros() / 1_000_000) as i64)
    }

    /// Milliseconds of virtual time now (`ngx_current_msec`).
    pub fn now_ms(&self) -> u64 {
        self.now.as_micros() / 1_000
    }
}

/// `base` with every fault's configuration applied, in order.
pub fn effective(base: &Scenario) -> Scenario {
    let mut sc = base.clone();
    for f in &base.faults {
        f.configure(&mut sc);
    }
    sc
}
