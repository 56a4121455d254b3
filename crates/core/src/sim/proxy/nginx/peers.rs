//! nginx's round-robin balancer (ngx_http_upstream_round_robin.c): smooth
//! weighted round-robin, `max_fails`/`fail_timeout` in whole seconds of
//! `ngx_time()`, `backup` and `down`, and the single-server shortcut that
//! never marks its only server as failed.

use crate::sim::scenario::UpstreamServer;

#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    /// Index in `upstream.servers`.
    pub server: usize,
    /// The address as configured (`127.0.0.1:3000`).
    pub name: String,
    pub weight: i64,
    pub effective_weight: i64,
    pub current_weight: i64,
    pub max_fails: u32,
    pub fail_timeout_s: i64,
    pub fails: u32,
    pub accessed: i64,
    pub checked: i64,
    pub down: bool,
}

impl Peer {
    fn new(server: usize, s: &UpstreamServer) -> Self {
        Peer {
            server,
            name: s.address.clone(),
            weight: s.weight as i64,
            effective_weight: s.weight as i64,
            current_weight: 0,
            max_fails: s.max_fails,
            fail_timeout_s: (s.fail_timeout_ms / 1_000) as i64,
            fails: 0,
            accessed: 0,
            checked: 0,
            down: s.down,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct PeerSet {
    pub primary: Vec<Peer>,
    pub backup: Vec<Peer>,
}

/// A chosen peer: which set and which index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    pub backup: bool,
    pub index: usize,
}

impl PeerSet {
    pub fn new(servers: &[UpstreamServer]) -> Self {
        Self::resolved(&servers.iter().cloned().enumerate().collect::<Vec<_>>())
    }

    /// Peers of servers whose names are resolved: `(index of the server
    /// line, one address of it)`; a name with two addresses is two peers of
    /// the same line (ngx_http_upstream_init_round_robin).
    pub fn resolved(servers: &[(usize, UpstreamServer)]) -> Self {
        let mut primary = Vec::new();
        let mut backup = Vec::new();
        for (i, s) in servers.iter().map(|(i, s)| (*i, s)) {
            if s.backup {
                backup.push(Peer::new(i, s));
            } else {
                primary.push(Peer::new(i, s));
            }
        }
        PeerSet { primary, backup }
    }

    /// One primary server and no backup: nginx's `peers->single`.
    pub fn single(&self) -> bool {
        self.primary.len() == 1 && self.backup.is_empty()
    }

    /// `u->peer.tries` at the start of a request.
    pub fn tries(&self) -> u32 {
        (self.primary.len() + self.backup.len()) as u32
    }

    pub fn peer(&self, p: Pick) -> &Peer {
        if p.backup { &self.backup[p.index] } else { &self.primary[p.index] }
    }

    fn peer_mut(&mut self, p: Pick) -> &mut Peer {
        if p.backup { &mut self.backup[p.index] } else { &mut self.primary[p.index] }
    }

    /// `ngx_http_upstream_get_round_robin_peer`: a peer not yet `tried` by
    /// this request, or None (NGX_BUSY: "no live upstreams").
    pub fn get(&mut self, tried_primary: &mut [bool], tried_backup: &mut [bool], on_backup: &mut bool, now_s: i64) -> Option<Pick> {
        if self.single() {
            // The single-server path ignores `tried`: only `tries` bounds it.
            let p = &self.primary[0];
            return (!p.down).then(|| {
                tried_primary[0] = true;
                Pick { backup: false, index: 0 }
            });
        }
        if !*on_backup {
            if let Some(i) = get_peer(&mut self.primary, tried_primary, now_s) {
                return Some(Pick { backup: false, index: i });
            }
            if self.backup.is_empty() {
                return None;
            }
            *on_backup = true;
            tried_backup.iter_mut().for_each(|t| *t = false);
        }
        get_peer(&mut self.backup, tried_backup, now_s).map(|i| Pick { backup: true, index: i })
    }

    /// `ngx_http_upstream_free_round_robin_peer`. Returns true when the
    /// peer just became "temporarily disabled" (nginx logs a warn line).
    /// `tries` is decremented as nginx does.
    pub fn free(&mut self, pick: Pick, failed: bool, now_s: i64, tries: &mut u32) -> bool {
        if self.single() {
            *tries = 0;
            return false;
        }
        let peer = self.peer_mut(pick);
        let mut disabled = false;
        if failed {
            peer.fails += 1;
            peer.accessed = now_s;
            peer.checked = now_s;
            if peer.max_fails > 0 {
                peer.effective_weight -= peer.weight / peer.max_fails as i64;
                if peer.fails >= peer.max_fails {
                    disabled = true;
                }
            }
            if peer.effective_weight < 0 {
                peer.effective_weight = 0;
            }
        } else if peer.accessed < peer.checked {
            peer.fails = 0;
        }
        if *tries > 0 {
            *tries -= 1;
        }
        disabled
    }
}

/// `ngx_http_upstream_get_peer`: smooth weighted round-robin.
fn get_peer(peers: &mut [Peer], tried: &mut [bool], now_s: i64) -> Option<usize> {
    let mut best: Option<usize> = None;
    let mut total = 0i64;
    for i in 0..peers.len() {
        let peer = &mut peers[i];
        if tried[i] || peer.down {
            continue;
        }
        if peer.max_fails > 0 && peer.fails >= peer.max_fails && now_s - peer.checked <= peer.fail_timeout_s {
            continue;
        }
        peer.current_weight += peer.effective_weight;
        total += peer.effective_weight;
        if peer.effective_weight < peer.weight {
            peer.effective_weight += 1;
        }
        let cw = peer.current_weight;
        if best.is_none_or(|b| cw > peers[b].current_weight) {
            best = Some(i);
        }
    }
    let b = best?;
    let peer = &mut peers[b];
    peer.current_weight -= total;
    if now_s - peer.checked > peer.fail_timeout_s {
        peer.checked = now_s;
    }
    tried[b] = true;
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(weights: &[u32]) -> Vec<UpstreamServer> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| UpstreamServer { address: format!("127.0.0.1:{}", 3000 + i), weight: w, ..Default::default() })
            .collect()
    }

    #[test]
    fn smooth_weighted_round_robin_matches_nginx_sequence() {
        // nginx's documented example: weights 5, 1, 1 give a a b a c a a.
        let mut set = PeerSet::new(&servers(&[5, 1, 1]));
        let mut seq = String::new();
        for _ in 0..7 {
            let mut tp = vec![false; 3];
            let mut tb = vec![];
            let mut ob = false;
            let p = set.get(&mut tp, &mut tb, &mut ob, 0).unwrap();
            seq.push((b'a' + p.index as u8) as char);
        }
        assert_eq!(seq, "aabacaa");
    }

    #[test]
    fn failed_peer_is_skipped_for_fail_timeout() {
        let mut set = PeerSet::new(&servers(&[1, 1]));
        let mut tries = 2;
        let mut tp = vec![false; 2];
        let (mut tb, mut ob) = (vec![], false);
        let p = set.get(&mut tp, &mut tb, &mut ob, 100).unwrap();
        assert!(set.free(p, true, 100, &mut tries), "max_fails=1: disabled at once");
        for now in [100, 105, 110] {
            let mut tp = vec![false; 2];
            let q = set.get(&mut tp, &mut tb, &mut ob, now).unwrap();
            assert_ne!(q.index, p.index, "at {now}");
        }
        let mut tp = vec![false; 2];
        tp[1 - p.index] = true;
        assert_eq!(set.get(&mut tp, &mut tb, &mut ob, 111).map(|q| q.index), Some(p.index), "back after fail_timeout");
    }

    #[test]
    fn single_server_is_never_disabled() {
        let mut set = PeerSet::new(&servers(&[1]));
        for _ in 0..5 {
            let mut tries = 1;
            let mut tp = vec![false];
            let (mut tb, mut ob) = (vec![], false);
            let p = set.get(&mut tp, &mut tb, &mut ob, 0).unwrap();
            assert!(!set.free(p, true, 0, &mut tries));
            assert_eq!(tries, 0);
        }
    }
}
