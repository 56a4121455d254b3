//! nginx `limit_req` (ngx_http_limit_req_module.c): a leaky bucket per key
//! with the excess kept in thousandths of a request and time in ms.

use std::collections::BTreeMap;

use crate::sim::scenario::LimitReq;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LimitReqState {
    /// key → (excess in 1/1000 requests, last time in ms).
    nodes: BTreeMap<String, (u64, u64)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Delay the request by `delay_ms`; `excess` for the warn line.
    Delay { delay_ms: u64, excess: u64 },
    /// Reject; `excess` for the error line.
    Reject { excess: u64 },
}

/// `1.500` from 1500 thousandths.
pub fn fmt_excess(excess: u64) -> String {
    format!("{}.{:03}", excess / 1000, excess % 1000)
}

impl LimitReqState {
    pub fn check(&mut self, cfg: &LimitReq, key: &str, now_ms: u64) -> Verdict {
        let rate = (cfg.rate_per_s * 1000.0).round().max(1.0) as u64; // per 1000 s, as nginx stores it
        let burst = cfg.burst as u64 * 1000;
        let excess = match self.nodes.get(key) {
            Some(&(old, last)) => {
                let ms = now_ms.saturating_sub(last);
                let drained = rate.saturating_mul(ms) / 1000;
                (old + 1000).saturating_sub(drained)
            }
            None => 0,
        };
        if excess > burst {
            return Verdict::Reject { excess };
        }
        self.nodes.insert(key.to_string(), (excess, now_ms));
        if excess == 0 || cfg.nodelay {
            Verdict::Pass
        } else {
            Verdict::Delay { delay_ms: excess * 1000 / rate, excess }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_per_second_without_burst_rejects_the_second() {
        let cfg = LimitReq { rate_per_s: 1.0, ..LimitReq::default() };
        let mut s = LimitReqState::default();
        assert_eq!(s.check(&cfg, "a", 0), Verdict::Pass);
        assert_eq!(s.check(&cfg, "a", 100), Verdict::Reject { excess: 900 });
        assert_eq!(s.check(&cfg, "b", 100), Verdict::Pass, "per key");
        assert_eq!(s.check(&cfg, "a", 1000), Verdict::Pass);
    }

    #[test]
    fn burst_delays_unless_nodelay() {
        let mut cfg = LimitReq { rate_per_s: 1.0, burst: 2, ..LimitReq::default() };
        let mut s = LimitReqState::default();
        assert_eq!(s.check(&cfg, "a", 0), Verdict::Pass);
        assert_eq!(s.check(&cfg, "a", 0), Verdict::Delay { delay_ms: 1000, excess: 1000 });
        assert_eq!(s.check(&cfg, "a", 0), Verdict::Delay { delay_ms: 2000, excess: 2000 });
        assert_eq!(s.check(&cfg, "a", 0), Verdict::Reject { excess: 3000 });
        cfg.nodelay = true;
        let mut s = LimitReqState::default();
        s.check(&cfg, "a", 0);
        assert_eq!(s.check(&cfg, "a", 0), Verdict::Pass);
    }
}
