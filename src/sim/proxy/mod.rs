//! Proxy flavours. Each flavour is one module behind [`ProxyFlavor`]; the
//! engine calls it for every proxy-side event and it decides what the proxy
//! does, which log lines it writes and what the client gets.

pub mod nginx;

use super::fault::ConnectOutcome;
use super::world::{ProxyTimer, ReqId, World};

pub trait ProxyFlavor {
    /// A client request has fully arrived.
    fn on_request(&mut self, w: &mut World, id: ReqId);
    /// A connection attempt to the upstream ended (SYN-ACK or RST).
    fn on_connect_result(&mut self, w: &mut World, id: ReqId, attempt: u32, outcome: ConnectOutcome);
    /// The upstream's response header has arrived.
    fn on_upstream_response(&mut self, w: &mut World, id: ReqId, attempt: u32);
    /// A timer armed by this flavour fired (it may be stale).
    fn on_timer(&mut self, w: &mut World, id: ReqId, timer: ProxyTimer);
}

/// The flavours, dispatched statically so a `Simulation` stays plain data.
pub enum Proxy {
    Nginx(nginx::Nginx),
}

impl Proxy {
    pub fn flavor(&mut self) -> &mut dyn ProxyFlavor {
        match self {
            Proxy::Nginx(p) => p,
        }
    }
}
