//! Layers in front of the proxy (issue 19, item 3): a scenario's `layers`,
//! outermost first, sit on the client↔proxy boundary: client → layers[0] →
//! … → layers[n-1] → proxy → apps. Each layer adds the latency of its link to
//! the next hop, runs its own timers (which reach the proxy as a client that
//! closed its connection: nginx logs 499), maps what its next hop did to its
//! own status and page, and writes its own log record.
//!
//! Every behaviour here is **documented, not verified**: Cloudflare and AWS
//! ALB are services that cannot run on this machine. Sources:
//! docs/research/layers-model.md (each mapping with its page or thread).
//!
//! One module per layer kind (`cloudflare`, `alb`) behind [`LayerModel`];
//! this file routes a request through them. Nothing here knows faults.

pub mod alb;
pub mod cloudflare;

use serde::{Deserialize, Serialize};

use super::http::Response;
use super::scenario::ScenarioError;
use super::time::SimTime;
use super::world::{Actor, ClientResult, Event, ReqId, World};

/// At most this many layers in front of the proxy.
pub const MAX_LAYERS: usize = 4;

/// One layer in front of the proxy, as a scenario names it:
/// `{"kind": "cloudflare", ...its settings}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[serde(remote = "Layer")]
pub enum Layer {
    /// Cloudflare's proxy (an orange-clouded DNS record).
    Cloudflare(cloudflare::Cloudflare),
    /// An AWS Application Load Balancer with the proxy host as its target.
    Alb(alb::Alb),
}

impl Serialize for Layer {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Layer::serialize(self, s)
    }
}

/// Read as a JSON object first, then split by its `kind`, inside the
/// object's own `deserialize_map` (as `Fault` does): serde_json then
/// positions an error at this object, so `Scenario::from_json` names
/// `layers[0]`, not the element after it.
impl<'de> Deserialize<'de> for Layer {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Layer;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, a: A) -> Result<Layer, A::Error> {
                let m = serde_json::Map::deserialize(serde::de::value::MapAccessDeserializer::new(a))?;
                Layer::deserialize(serde_json::Value::Object(m.clone())).map_err(|e| {
                    // Name the field: the first one that fails on its own
                    // (`.ssl_mode: unknown variant …`; `Scenario::from_json`
                    // joins it to the layer's path: `layers[0].ssl_mode`).
                    let kind = m.get("kind").cloned();
                    let field = kind.as_ref().and_then(|kind| {
                        m.iter().filter(|(k, _)| k.as_str() != "kind").find_map(|(k, v)| {
                            let one = serde_json::Map::from_iter([("kind".to_string(), kind.clone()), (k.clone(), v.clone())]);
                            Layer::deserialize(serde_json::Value::Object(one)).err().map(|e| format!(".{k}: {e}"))
                        })
                    });
                    serde::de::Error::custom(field.unwrap_or_else(|| e.to_string()))
                })
            }
        }
        d.deserialize_map(V)
    }
}

/// The layer kinds, for the link's `layers=` list and the Config tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    Cloudflare,
    Alb,
}

impl LayerKind {
    pub const ALL: [LayerKind; 2] = [LayerKind::Cloudflare, LayerKind::Alb];

    /// The name in scenarios and links: `cloudflare`, `alb`.
    pub fn key(self) -> &'static str {
        match self {
            LayerKind::Cloudflare => "cloudflare",
            LayerKind::Alb => "alb",
        }
    }

    pub fn parse(s: &str) -> Option<LayerKind> {
        LayerKind::ALL.into_iter().find(|k| k.key() == s)
    }

    /// The layer with its documented defaults.
    pub fn default_layer(self) -> Layer {
        match self {
            LayerKind::Cloudflare => Layer::Cloudflare(cloudflare::Cloudflare::default()),
            LayerKind::Alb => Layer::Alb(alb::Alb::default()),
        }
    }
}

/// What a layer's origin firewall does to the layer's connections (the
/// origin's host firewall, or a security group, in front of the next hop).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Firewall {
    /// Lets the layer's connections through.
    #[default]
    Open,
    /// Answers the layer's SYN with a RST (connection refused).
    Reject,
    /// Drops the layer's SYNs: the connect times out.
    Drop,
}

impl Firewall {
    /// The title, cause and fix a diagnosis gives when this firewall,
    /// in front of `layer`'s next hop, is what went wrong (None: `Open`).
    pub fn diagnosis(self, layer: &str) -> Option<(String, String, String)> {
        let (title, what) = match self {
            Firewall::Open => return None,
            Firewall::Reject => ("rejects", "answers its SYNs with a RST: the connection is refused"),
            Firewall::Drop => ("drops", "drops its SYNs: the connect times out"),
        };
        Some((
            format!("the origin's firewall {title} {layer}"),
            format!("The origin's firewall (or security group) does not let {layer}'s addresses in and {what}; the proxy behind it never sees the request."),
            format!("Allow {layer}'s addresses: Let {layer}'s published IP ranges through to the origin's port (for Cloudflare, https://www.cloudflare.com/ips/)."),
        ))
    }
}

/// What a layer saw from its next hop (the next layer, or the proxy).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "what")]
pub enum Seen {
    /// An HTTP response with this status; `complete` false when the body
    /// was cut short.
    Answer { status: u16, complete: bool },
    /// The connect was refused (RST): nothing listens, or a firewall rejects.
    Refused,
    /// The SYNs went unanswered until the layer's connect timeout.
    ConnectTimeout,
    /// No route to the next hop's address (Cloudflare's DNS record points
    /// at a stale address): nothing was sent to it.
    Unreachable,
    /// The layer has nowhere to send the request (an ALB's target group
    /// without registered targets): nothing was sent.
    NoTarget,
    /// The connection closed or was reset before a response byte.
    Empty,
    /// Bytes that are not an HTTP response.
    NotHttp,
    /// The layer's own read (idle) timeout fired before a response.
    ReadTimeout,
    /// Its TLS handshake with the next hop failed (no TLS on the port, no
    /// shared cipher or protocol, no certificate for the SNI name).
    TlsHandshakeFailed,
    /// The next hop's certificate failed validation (expired, self-signed,
    /// for another host) and the layer validates it.
    InvalidCertificate,
    /// The layer's client closed the connection before the answer.
    ClientClosed,
}

/// A layer's decision about one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The status it sends to its client (None: its client has gone).
    pub status: Option<u16>,
    /// Its own page, or None to relay the next hop's response.
    pub page: Option<Response>,
    /// One sentence for the explanation: what it did and why.
    pub why: String,
}

/// What every layer kind provides.
pub trait LayerModel {
    fn kind(&self) -> LayerKind;
    /// How the page and the logs name it: `Cloudflare`, `AWS ALB`.
    fn name(&self) -> &'static str;
    /// One-way latency of its link to the next hop, µs.
    fn hop_us(&self) -> u64;
    /// Its read (idle) timeout after forwarding, µs.
    fn read_timeout_us(&self) -> u64;
    /// How long it waits for a SYN+ACK, µs.
    fn connect_timeout_us(&self) -> u64;
    fn firewall(&self) -> Firewall;
    /// What its TLS connection to the next hop ends in, if it fails
    /// (None: no TLS to the next hop, or a certificate it accepts).
    fn tls_failure(&self) -> Option<Seen> {
        None
    }
    /// No route leads to its next hop's address (Cloudflare's stale DNS
    /// record): it answers after one round trip, nothing is sent on.
    fn unreachable(&self) -> bool {
        false
    }
    /// It has no next hop to send to (an ALB's target group without
    /// registered targets): it answers at once, nothing is sent on.
    fn no_target(&self) -> bool {
        false
    }
    /// The title, cause and fix a diagnosis gives when this layer's own
    /// settings (its origin's firewall, its TLS to the origin) are what
    /// went wrong (None: nothing of the layer's keeps the request out).
    fn diagnosis(&self) -> Option<(String, String, String)> {
        self.firewall().diagnosis(self.name())
    }
    /// The address its next hop sees as the client.
    fn ip(&self) -> &str;
    /// Maps what it saw to its answer (`host`: the request's Host, for
    /// Cloudflare's page title; `ray`: the request's Ray ID).
    fn answer(&self, seen: Seen, host: &str, ray: &str) -> Answer;
    fn validate(&self, field: &str) -> Result<(), ScenarioError>;
}

impl Layer {
    pub fn model(&self) -> &dyn LayerModel {
        match self {
            Layer::Cloudflare(c) => c,
            Layer::Alb(a) => a,
        }
    }

    pub fn kind(&self) -> LayerKind {
        self.model().kind()
    }
}

/// The fix for the first layer whose own setting keeps every request from
/// the proxy and that "Apply the fix" can undo ([`apply_fix`]): a Cloudflare
/// DNS record left on a stale address (523), an ALB target group without
/// registered targets (503). None when no layer setting is at fault.
pub fn fix(layers: &[Layer]) -> Option<super::fault::Fix> {
    layers.iter().find_map(layer_fix)
}

/// [`fix`] for one layer (its diagnosis's fix says the same words).
pub fn layer_fix(l: &Layer) -> Option<super::fault::Fix> {
    match l {
        Layer::Cloudflare(c) if c.origin_record == cloudflare::OriginRecord::Stale => Some(super::fault::Fix {
            title: "Point the DNS record back at the proxy",
            detail: format!(
                "In Cloudflare's DNS app, change the proxied A record's content from the stale {} to the proxy host's current public address ({PROXY_HOST_IP} here), keeping it proxied: Cloudflare then reaches nginx again.",
                cloudflare::STALE_ORIGIN_IP
            ),
        }),
        Layer::Alb(a) if !a.targets_registered => Some(super::fault::Fix {
            title: "Register the target",
            detail: format!(
                "Register the proxy host in the ALB's target group again (aws elbv2 register-targets --target-group-arn {} --targets Id={PROXY_HOST_IP},Port=80), and keep the rollout from deregistering it: the ALB then forwards to nginx.",
                a.target_group_arn
            ),
        }),
        _ => None,
    }
}

/// Does what [`fix`] says, on the first such layer; false if there was
/// nothing of the layers' to fix.
pub fn apply_fix(layers: &mut [Layer]) -> bool {
    for l in layers.iter_mut() {
        match l {
            Layer::Cloudflare(c) if c.origin_record == cloudflare::OriginRecord::Stale => {
                c.origin_record = cloudflare::OriginRecord::Proxy;
                return true;
            }
            Layer::Alb(a) if !a.targets_registered => {
                a.targets_registered = true;
                return true;
            }
            _ => {}
        }
    }
    false
}

/// Checks `layers` (the error names the field).
pub fn validate(layers: &[Layer]) -> Result<(), ScenarioError> {
    if layers.len() > MAX_LAYERS {
        return Err(ScenarioError(format!("layers: at most {MAX_LAYERS} layers, got {}", layers.len())));
    }
    for (i, l) in layers.iter().enumerate() {
        l.model().validate(&format!("layers[{i}]"))?;
    }
    Ok(())
}

/// One layer's part in one request: what it saw, what it answered and its
/// log record, as data (the logs are formatted from it).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerHop {
    /// Index in `Scenario::layers`.
    pub layer: usize,
    pub kind: LayerKind,
    pub seen: Seen,
    /// The status it sent to its client (None: its client had gone).
    pub status: Option<u16>,
    /// It answered with its own page rather than relaying.
    pub own_page: bool,
    /// When it answered (or learnt that its client had gone).
    pub at: SimTime,
    pub record: LayerRecord,
}

/// A layer's log record for one request.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum LayerRecord {
    /// A Cloudflare Logpush `http_requests` record.
    Cloudflare(cloudflare::CfLog),
    /// An ALB access log entry.
    Alb(alb::AlbLog),
}

/// Where a layered request stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Phase {
    /// No layer in its path (no layers, or a tool on the proxy host).
    #[default]
    None,
    /// On its way through the layers and the proxy.
    Forwarding,
    /// A layer has answered (or the client has gone): what reaches the
    /// client is decided, the proxy's answer, if any, is dropped.
    Settled {
        /// What travels out towards the client.
        response: Option<Response>,
        result: ClientResult,
        /// Each layer's sentence, outermost first, so far.
        why: Vec<String>,
        /// What the next layer out will see.
        next: Seen,
    },
}

/// The request's path through the layers: the Ray ID and the phase.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Trace {
    pub phase: Phase,
    /// Cloudflare's Ray ID for this request ("" without Cloudflare).
    pub ray: String,
}

/// Whether request `id` passes the layers (a tool on the proxy host, the
/// terminal's curl, does not).
pub fn applies(w: &World, id: ReqId) -> bool {
    !w.scenario.layers.is_empty() && w.ops.get(w.exchanges[id].op).is_some_and(|o| o.user_agent.is_none())
}

fn hops(w: &World) -> Vec<u64> {
    w.scenario.layers.iter().map(|l| l.model().hop_us()).collect()
}

/// When layer `k` received request `id` (client → layer 0 is the
/// scenario's hop; layer j → j+1 is layer j's).
fn received_at(w: &World, id: ReqId, k: usize) -> SimTime {
    let h = hops(w);
    w.exchanges[id].sent_at.plus_us(w.hop() + h[..k].iter().sum::<u64>())
}

/// The client has sent request `id` (now): it crosses the layers towards
/// the proxy. Called by `client::on_send` instead of sending it straight
/// to the proxy.
pub fn forward(w: &mut World, id: ReqId) {
    let layers = w.scenario.layers.clone();
    if layers.iter().any(|l| matches!(l, Layer::Cloudflare(_))) {
        w.exchanges[id].layers_trace.ray = cloudflare::ray_id(&mut w.layer_rng, layers.iter().find_map(|l| match l {
            Layer::Cloudflare(c) => Some(c.colo.as_str()),
            _ => None,
        }).unwrap_or("FRA"));
    }
    w.exchanges[id].layers_trace.phase = Phase::Forwarding;
    let names: Vec<&str> = layers.iter().map(|l| l.model().name()).collect();
    note!(w, id, Actor::Edge, "the request goes through {} before the proxy", names.join(" → "));
    let mut at = w.hop();
    for (i, l) in layers.iter().enumerate() {
        let m = l.model();
        // Nowhere to send it: the ALB answers at once (its target group is
        // empty); no route to Cloudflare's DNS record: it answers after one
        // round trip to the origin's network. Before the firewall and TLS:
        // no packet reaches the origin.
        if m.no_target() {
            w.schedule(at, Event::Layer { id, layer: i as u8, what: LayerEvent::NoTarget });
            return;
        }
        if m.unreachable() {
            w.schedule(at + 2 * m.hop_us(), Event::Layer { id, layer: i as u8, what: LayerEvent::Unreachable });
            return;
        }
        match m.firewall() {
            Firewall::Reject => {
                w.schedule(at + 2 * m.hop_us(), Event::Layer { id, layer: i as u8, what: LayerEvent::Refused });
                return;
            }
            Firewall::Drop => {
                w.schedule(at + m.connect_timeout_us(), Event::Layer { id, layer: i as u8, what: LayerEvent::ConnectTimeout });
                return;
            }
            Firewall::Open => {}
        }
        // Its TLS handshake with the next hop: TCP's round trip, then the
        // ClientHello and the server's answer (alert or certificate), then
        // it gives up. Nothing listening on the proxy's port is a refusal
        // first (below).
        let next_listens = i + 1 < layers.len() || w.proxy_running;
        if let (Some(seen), true) = (m.tls_failure(), next_listens) {
            let what = match seen {
                Seen::InvalidCertificate => LayerEvent::InvalidCertificate,
                _ => LayerEvent::TlsHandshakeFailed,
            };
            w.schedule(at + 4 * m.hop_us(), Event::Layer { id, layer: i as u8, what });
            return;
        }
        w.schedule(at.saturating_add(m.read_timeout_us()), Event::Layer { id, layer: i as u8, what: LayerEvent::Timeout });
        at += m.hop_us();
    }
    if !w.proxy_running {
        // Nothing listens on the proxy's port: the innermost layer's SYN gets a RST.
        let last = layers.len() - 1;
        let back = layers[last].model().hop_us();
        w.schedule(at + back, Event::Layer { id, layer: last as u8, what: LayerEvent::Refused });
        return;
    }
    w.schedule(at, Event::ProxyReceive(id));
}

/// What a layer's event says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerEvent {
    /// Its read (idle) timer fired.
    Timeout,
    /// Its connect was refused.
    Refused,
    /// Its connect timed out.
    ConnectTimeout,
    /// No route to its next hop's address.
    Unreachable,
    /// No registered target to send to.
    NoTarget,
    /// Its TLS handshake with the next hop failed.
    TlsHandshakeFailed,
    /// It refused the next hop's certificate.
    InvalidCertificate,
    /// The answer of the layer inside it reaches it.
    Relay,
    /// Its client closed the connection.
    ClientGone,
    /// The outermost layer's answer reaches the client.
    Deliver,
}

/// A layer's event for request `id`.
pub fn on_event(w: &mut World, id: ReqId, layer: usize, what: LayerEvent) {
    if layer >= w.scenario.layers.len() {
        // The layers were removed (a reload) while it was on its way: what
        // the client gets is what had been decided, or the proxy's answer.
        if what == LayerEvent::Deliver || !matches!(w.exchanges[id].layers_trace.phase, Phase::Forwarding) {
            bypass(w, id);
        }
        return;
    }
    match what {
        LayerEvent::Deliver => deliver(w, id),
        LayerEvent::ClientGone => on_client_gone(w, id, layer),
        LayerEvent::Relay => {
            if let Phase::Settled { next, .. } = w.exchanges[id].layers_trace.phase {
                settle(w, id, layer, next);
            }
        }
        _ if w.exchanges[id].layers_trace.phase != Phase::Forwarding => {}
        LayerEvent::Timeout => {
            tell_inner_client_gone(w, id, layer);
            settle(w, id, layer, Seen::ReadTimeout);
        }
        LayerEvent::Refused => settle(w, id, layer, Seen::Refused),
        LayerEvent::ConnectTimeout => settle(w, id, layer, Seen::ConnectTimeout),
        LayerEvent::Unreachable => settle(w, id, layer, Seen::Unreachable),
        LayerEvent::NoTarget => settle(w, id, layer, Seen::NoTarget),
        LayerEvent::TlsHandshakeFailed => settle(w, id, layer, Seen::TlsHandshakeFailed),
        LayerEvent::InvalidCertificate => settle(w, id, layer, Seen::InvalidCertificate),
    }
}

/// The proxy's answer (or its connection's end) for request `id` has
/// reached the innermost layer: each layer, innermost first, maps it.
/// Called for `Event::ClientReceive` of a layered request.
pub fn on_proxy_answer(w: &mut World, id: ReqId) {
    if w.scenario.layers.is_empty() {
        // The layers were removed (a reload) while it was on its way.
        bypass(w, id);
        return;
    }
    match &w.exchanges[id].layers_trace.phase {
        Phase::Forwarding => {}
        Phase::Settled { response, result, .. } => {
            // A layer had already answered (and closed towards the proxy):
            // the proxy's late answer goes nowhere.
            let (response, result) = (response.clone(), result.clone());
            let ex = &mut w.exchanges[id];
            if ex.finished_at.is_some() {
                ex.response = response;
                ex.client_result = Some(result);
            }
            return;
        }
        Phase::None => return,
    }
    let ex = &w.exchanges[id];
    let seen = match (&ex.client_result, &ex.response) {
        (Some(ClientResult::ConnectFailed), _) => Seen::Refused,
        (Some(ClientResult::Http09), _) => Seen::NotHttp,
        (Some(ClientResult::Reset), _) | (Some(ClientResult::Truncated { .. }), None) | (_, None) => Seen::Empty,
        (Some(ClientResult::Truncated { .. }), Some(r)) => Seen::Answer { status: r.status, complete: false },
        (_, Some(r)) => Seen::Answer { status: r.status, complete: true },
    };
    let last = w.scenario.layers.len() - 1;
    let extra = w.scenario.layers[last].model().hop_us().saturating_sub(w.hop());
    if extra == 0 {
        settle(w, id, last, seen);
    } else {
        // The proxy's hop is the scenario's; the link to the innermost layer is longer.
        w.exchanges[id].layers_trace.phase = Phase::Settled {
            response: w.exchanges[id].response.clone(),
            result: w.exchanges[id].client_result.clone().unwrap_or(ClientResult::Response),
            why: Vec::new(),
            next: seen,
        };
        w.schedule(extra, Event::Layer { id, layer: last as u8, what: LayerEvent::Relay });
    }
}

/// The client of request `id` closed its connection before an answer
/// (its timeout, a cancelled hedge): the outermost layer learns it one hop
/// later, then each layer in turn, then the proxy. Returns false when the
/// request is not on its way through layers (the caller then tells the
/// proxy itself).
pub fn client_gone(w: &mut World, id: ReqId) -> bool {
    match w.exchanges[id].layers_trace.phase {
        Phase::None => false,
        Phase::Settled { .. } => true,
        Phase::Forwarding => {
            w.exchanges[id].layers_trace.phase = Phase::Settled { response: None, result: ClientResult::TimedOut, why: Vec::new(), next: Seen::ClientClosed };
            let hop = w.hop();
            w.schedule(hop, Event::Layer { id, layer: 0, what: LayerEvent::ClientGone });
            true
        }
    }
}

/// Layer `i` gave up (its timer): the layers inside it, then the proxy,
/// see their client close, each one hop later.
fn tell_inner_client_gone(w: &mut World, id: ReqId, i: usize) {
    let h = hops(w);
    if i + 1 < h.len() {
        w.schedule(h[i], Event::Layer { id, layer: (i + 1) as u8, what: LayerEvent::ClientGone });
    } else if w.proxy_running {
        w.schedule(h[i], Event::ProxyClientAbort(id));
    }
}

/// Layer `k` learns now that its client closed the connection; it closes
/// towards its own next hop.
fn on_client_gone(w: &mut World, id: ReqId, k: usize) {
    let layer = w.scenario.layers[k].clone();
    let m = layer.model();
    let answer = m.answer(Seen::ClientClosed, "", "");
    let at = w.now;
    let record = make_record(w, id, k, Seen::ClientClosed, answer.status, at, None);
    note!(w, id, Actor::Edge, "{}: its client closed the connection{}; it closes its own", m.name(), answer.status.map(|s| format!(" (logs {s})")).unwrap_or_default());
    w.exchanges[id].layers.push(LayerHop { layer: k, kind: m.kind(), seen: Seen::ClientClosed, status: answer.status, own_page: false, at, record });
    tell_inner_client_gone(w, id, k);
}

/// Layer `k` has seen `seen` now: it answers (its own page, or it relays
/// the response travelling out), and its answer goes one hop outwards:
/// to the next layer out, or to the client.
fn settle(w: &mut World, id: ReqId, k: usize, seen: Seen) {
    let (mut response, mut result, mut whys) = match std::mem::take(&mut w.exchanges[id].layers_trace.phase) {
        Phase::Settled { response, result, why, .. } => (response, result, why),
        _ => {
            let ex = &w.exchanges[id];
            let response = match seen {
                Seen::Refused | Seen::ConnectTimeout | Seen::Unreachable | Seen::NoTarget | Seen::ReadTimeout | Seen::TlsHandshakeFailed | Seen::InvalidCertificate => None,
                _ => ex.response.clone(),
            };
            (response, ex.client_result.clone().unwrap_or(ClientResult::Response), Vec::new())
        }
    };
    let layer = w.scenario.layers[k].clone();
    let m = layer.model();
    let host = {
        let h = &w.exchanges[id].request.host;
        if h.is_empty() { "localhost".to_string() } else { h.clone() }
    };
    let ray = w.exchanges[id].layers_trace.ray.clone();
    let answer = m.answer(seen, &host, &ray);
    let own_page = answer.page.is_some();
    if let Some(page) = answer.page {
        response = Some(page);
        result = ClientResult::Response;
    } else if let Some(r) = response.as_mut() {
        if m.kind() == LayerKind::Cloudflare {
            cloudflare::stamp(r, &ray);
        }
    }
    let at = w.now;
    let status = answer.status;
    // What it sends: its own page, or the response it relays.
    let sent = response.as_ref().map(|r| (r.header_block_len() + r.body_bytes()) as u64);
    let record = make_record(w, id, k, seen, status, at, sent);
    note!(
        w,
        id,
        Actor::Edge,
        "{}",
        match (status, own_page) {
            (Some(s), true) => format!("{}: answers {s} with its own page", m.name()),
            (Some(s), false) => format!("{}: relays {s}", m.name()),
            (None, _) => format!("{}: sends nothing", m.name()),
        }
    );
    w.exchanges[id].layers.push(LayerHop { layer: k, kind: m.kind(), seen, status, own_page, at, record });
    whys.insert(0, answer.why);
    let next_seen = match (status, &result) {
        (Some(s), ClientResult::Truncated { .. }) => Seen::Answer { status: s, complete: false },
        (Some(s), _) => Seen::Answer { status: s, complete: true },
        (None, _) => Seen::Empty,
    };
    w.exchanges[id].layers_trace.phase = Phase::Settled { response, result, why: whys, next: next_seen };
    if k > 0 {
        let back = w.scenario.layers[k - 1].model().hop_us();
        w.schedule(back, Event::Layer { id, layer: (k - 1) as u8, what: LayerEvent::Relay });
    } else {
        let back = w.hop();
        w.schedule(back, Event::Layer { id, layer: 0, what: LayerEvent::Deliver });
    }
}

/// The request's layers are gone: it ends with what was decided, or with
/// the proxy's answer as it stands.
fn bypass(w: &mut World, id: ReqId) {
    if w.exchanges[id].finished_at.is_some() {
        return;
    }
    if let Phase::Settled { response, result, .. } = std::mem::take(&mut w.exchanges[id].layers_trace.phase) {
        w.exchanges[id].response = response;
        w.exchanges[id].client_result = Some(result);
    }
    super::client::on_receive(w, id);
}

/// The outermost layer's answer reaches the client.
fn deliver(w: &mut World, id: ReqId) {
    let Phase::Settled { response, result, why, .. } = w.exchanges[id].layers_trace.phase.clone() else { return };
    if w.exchanges[id].finished_at.is_some() {
        return;
    }
    let why = why.join(" ");
    let ex = &mut w.exchanges[id];
    ex.response = response;
    ex.client_result = Some(result);
    if w.keep_details {
        ex.explanation = Some(compose(&why, ex.explanation.as_deref()));
    }
    super::client::on_receive(w, id);
}

/// The layers' explanation, then the proxy's.
fn compose(layers: &str, proxy: Option<&str>) -> String {
    match proxy {
        Some(p) if !p.is_empty() => format!("{layers}\n\nBehind the layers: {p}"),
        _ => layers.to_string(),
    }
}

/// After the proxy handled the layers' close (nginx wrote its 499 and its
/// own explanation): put the layers' explanation first again.
pub fn after_proxy_abort(w: &mut World, id: ReqId) {
    if !w.keep_details {
        return;
    }
    let Some(ex) = w.exchanges.get_mut(id) else { return };
    if let Phase::Settled { why, .. } = &ex.layers_trace.phase {
        if ex.finished_at.is_some() && !why.is_empty() {
            let why = why.join(" ");
            let proxy = ex.explanation.take();
            ex.explanation = Some(compose(&why, proxy.as_deref()));
        }
    }
}

/// Layer `k`'s log record for request `id`, answering `status` at `at`;
/// `sent`: the bytes of what it sends (None: the response as it stands).
#[allow(clippy::too_many_arguments)]
fn make_record(w: &mut World, id: ReqId, k: usize, seen: Seen, status: Option<u16>, at: SimTime, sent: Option<u64>) -> LayerRecord {
    let layers = &w.scenario.layers;
    let client = if k == 0 { w.exchanges[id].client_ip.to_string() } else { layers[k - 1].model().ip().to_string() };
    let next = if k + 1 < layers.len() { format!("{}:80", layers[k + 1].model().ip()) } else { proxy_address(w) };
    let received = received_at(w, id, k);
    let forwarded = received;
    let ex = &w.exchanges[id];
    let ctx = RecordCtx {
        client,
        next,
        received,
        received_unix: w.clock.unix(received),
        forwarded,
        answered: at,
        status,
        seen,
        method: ex.request.method.clone(),
        host: ex.request.host.clone(),
        path: ex.request.path.clone(),
        user_agent: w.scenario.clients.user_agent.clone(),
        request_bytes: super::http::client_request_head(&ex.request, &w.scenario.clients.user_agent).len() as u64 + ex.request.body_bytes,
        response_bytes: sent.or_else(|| ex.response.as_ref().map(|r| (r.header_block_len() + r.body_bytes()) as u64)).unwrap_or(0),
        ray: ex.layers_trace.ray.clone(),
    };
    let layer = layers[k].clone();
    let record = match &layer {
        Layer::Cloudflare(c) => LayerRecord::Cloudflare(c.record(&ctx)),
        Layer::Alb(a) => LayerRecord::Alb(a.record(&ctx, &mut w.layer_rng)),
    };
    if w.keep_details {
        if let (Some(line), Some(log)) = (record_line(&record, seen, &w.clock), w.layer_logs.get_mut(k)) {
            log.push(line);
        }
    }
    record
}

/// A layer's record as its log writes it (None: Cloudflare's status for a client that left is not
/// in the pages read, so it keeps no line).
pub fn record_line(record: &LayerRecord, seen: Seen, clock: &super::time::Clock) -> Option<String> {
    match record {
        LayerRecord::Cloudflare(_) if seen == Seen::ClientClosed => None,
        LayerRecord::Cloudflare(r) => Some(r.line(clock)),
        LayerRecord::Alb(r) => alb::line(r, clock),
    }
}

/// The layer that answered request `ex` with its own page (the first to answer: the innermost
/// that did), and its record as its log writes it. When the proxy wrote no line (the request never
/// reached it: 521, 522, 523, 525, 526, an ALB without targets), this is the stage's line.
pub fn answering_line<'a>(w: &World, ex: &'a super::world::Exchange) -> Option<(&'a LayerHop, String)> {
    let hop = ex.layers.iter().find(|h| h.own_page)?;
    Some((hop, record_line(&hop.record, hop.seen, &w.clock)?))
}

/// The title of layer `k`'s log (`layer 1 Cloudflare: Logpush http_requests (JSON)`), as the Logs
/// tab and the stage name it.
pub fn log_title(w: &World, k: usize) -> Option<String> {
    let l = w.scenario.layers.get(k)?;
    Some(format!("layer {} {}: {}", k + 1, l.model().name(), format_name(l.kind())))
}

/// The proxy's listening address as a layer names its target.
fn proxy_address(w: &World) -> String {
    format!("{}:{}", PROXY_HOST_IP, w.scenario.proxy.listen)
}

/// The proxy host's private address as the layers in front of it see it
/// (the engine's proxy listens on loopback; a layer reaches it over the
/// network).
pub const PROXY_HOST_IP: &str = "10.0.2.15";

/// What a layer's record is made from.
pub struct RecordCtx {
    /// Its client's address (the user, or the layer in front).
    pub client: String,
    /// Its next hop's `ip:port`.
    pub next: String,
    pub received: SimTime,
    /// `received` in Unix seconds (the ALB's trace id carries it).
    pub received_unix: i64,
    pub forwarded: SimTime,
    pub answered: SimTime,
    pub status: Option<u16>,
    pub seen: Seen,
    pub method: String,
    pub host: String,
    pub path: String,
    pub user_agent: String,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub ray: String,
}

/// Each layer's log, labelled with the layer and its format, oldest line
/// first (the page's Logs tab and the transcript).
pub fn log_sections(w: &World) -> Vec<(String, &super::log::LogBuffer)> {
    w.scenario
        .layers
        .iter()
        .zip(&w.layer_logs)
        .enumerate()
        .map(|(i, (_, log))| (log_title(w, i).unwrap_or_default(), log))
        .collect()
}

/// The log format a layer kind writes.
pub fn format_name(kind: LayerKind) -> &'static str {
    match kind {
        LayerKind::Cloudflare => "Logpush http_requests (JSON)",
        LayerKind::Alb => "ALB access log",
    }
}

#[cfg(test)]
mod tests;
