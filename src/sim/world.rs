//! The shared state of a run: virtual clock, event queue, PRNG, connection
//! counter, the exchanges (one per client request) and the logs. Proxy
//! flavours and the app model act on it; only `engine` advances time.

use serde::Serialize;

use super::fault::AppReply;
use super::http::Response;
use super::log::LogBuffer;
use super::queue::EventQueue;
use super::rng::SimRng;
use super::scenario::{RequestSpec, Scenario};
use super::time::{Clock, SimTime};

/// Index of an exchange in `World::exchanges`.
pub type ReqId = usize;

/// Lines kept per log; older ones are dropped (and counted).
pub const LOG_CAPACITY: usize = 2_000;

/// Timers a proxy can arm for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyTimer {
    Connect { attempt: u32 },
    Read { attempt: u32 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The client writes its request.
    ClientSend(ReqId),
    /// The request has reached the proxy.
    ProxyReceive(ReqId),
    /// The proxy's SYN reaches the app host.
    AppSyn { id: ReqId, attempt: u32 },
    /// The SYN-ACK (or RST) is back at the proxy.
    ProxyConnectResult { id: ReqId, attempt: u32, outcome: super::fault::ConnectOutcome },
    /// The proxied request has reached the app.
    AppRequest { id: ReqId, attempt: u32 },
    /// The app writes its response.
    AppWrite { id: ReqId, attempt: u32 },
    /// The app's response has reached the proxy.
    ProxyUpstreamResponse { id: ReqId, attempt: u32 },
    ProxyTimer { id: ReqId, timer: ProxyTimer },
    /// The proxy's response has reached the client.
    ClientReceive(ReqId),
}

/// Who did something, for the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    Client,
    Proxy,
    App,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Client => "client",
            Actor::Proxy => "proxy",
            Actor::App => "app",
        }
    }
}

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
    Refused,
    TimedOut,
    Responded { status: u16 },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// `host:port` the proxy connected to.
    pub peer: String,
    /// nginx connection number of the upstream connection.
    pub connection: u64,
    pub started: SimTime,
    pub ended: Option<SimTime>,
    pub result: AttemptResult,
}

/// One client request and everything that happened to it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exchange {
    pub id: ReqId,
    pub request: RequestSpec,
    pub sent_at: SimTime,
    /// nginx connection number of the client connection (`*N` in error.log).
    pub client_connection: u64,
    pub attempts: Vec<Attempt>,
    /// The response the client received.
    pub response: Option<Response>,
    pub finished_at: Option<SimTime>,
    /// The error.log lines this request produced.
    pub error_lines: Vec<String>,
    pub access_line: Option<String>,
    /// The engine's one-paragraph explanation of the outcome.
    pub explanation: Option<String>,
    pub timeline: Vec<Step>,
    #[serde(skip)]
    pub pending_reply: Option<AppReply>,
}

impl Exchange {
    pub fn request_line(&self) -> String {
        format!("{} {} HTTP/1.1", self.request.method, self.request.path)
    }

    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
}

pub struct World {
    pub now: SimTime,
    pub clock: Clock,
    pub scenario: Scenario,
    pub rng: SimRng,
    pub(crate) queue: EventQueue<Event>,
    next_connection: u64,
    pub exchanges: Vec<Exchange>,
    pub error_log: LogBuffer,
    pub access_log: LogBuffer,
    pub app_log: LogBuffer,
    /// Events processed so far.
    pub events_processed: u64,
}

impl World {
    pub fn new(scenario: Scenario) -> Self {
        World {
            now: SimTime::ZERO,
            clock: Clock::new(scenario.start_unix),
            rng: SimRng::seeded(scenario.seed),
            scenario,
            queue: EventQueue::default(),
            next_connection: 1,
            exchanges: Vec::new(),
            error_log: LogBuffer::new(LOG_CAPACITY),
            access_log: LogBuffer::new(LOG_CAPACITY),
            app_log: LogBuffer::new(LOG_CAPACITY),
            events_processed: 0,
        }
    }

    /// Schedules `event` `delay_us` after now.
    pub fn schedule(&mut self, delay_us: u64, event: Event) {
        self.queue.push(self.now.plus_us(delay_us), event);
    }

    /// One-way latency of a network hop.
    pub fn hop(&self) -> u64 {
        self.scenario.hop_latency_us
    }

    /// nginx's global connection counter (`ngx_connection_counter`): client
    /// and upstream connections draw from the same sequence.
    pub fn next_connection_number(&mut self) -> u64 {
        let n = self.next_connection;
        self.next_connection += 1;
        n
    }

    pub fn note(&mut self, id: ReqId, actor: Actor, text: impl Into<String>) {
        let at = self.now;
        self.exchanges[id].timeline.push(Step { at, actor, text: text.into() });
    }

    /// Adds a request to the run; it is sent at `at`.
    pub fn add_request(&mut self, request: RequestSpec, at: SimTime) -> ReqId {
        let id = self.exchanges.len();
        self.exchanges.push(Exchange {
            id,
            request,
            sent_at: at,
            client_connection: 0,
            attempts: Vec::new(),
            response: None,
            finished_at: None,
            error_lines: Vec::new(),
            access_line: None,
            explanation: None,
            timeline: Vec::new(),
            pending_reply: None,
        });
        self.queue.push(at, Event::ClientSend(id));
        id
    }
}
