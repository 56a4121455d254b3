//! SELinux on web1, as an administrator queries it: `getenforce`,
//! `getsebool`, `ausearch -m avc`. The policy is enforcing; the boolean
//! `httpd_can_network_connect` (HAProxy: `haproxy_connect_any`) is off
//! while the `selinux_connect_denied` fault is active, and every connect()
//! the policy refused left an AVC record (one per failed attempt of the
//! run). Not measured here (the sandbox has no SELinux): the formats are
//! those of RHEL 9's libselinux and audit tools.

use crate::sim::failure::FailureCause;
use crate::sim::fault::FaultKind;
use crate::sim::net::Address;
use crate::sim::scenario::Flavor;
use crate::sim::world::AttemptResult;

use super::{Ctx, Res};

/// The boolean the fault turns off, for the running proxy.
pub(super) fn boolean(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Nginx => "httpd_can_network_connect",
        Flavor::Haproxy => "haproxy_connect_any",
        Flavor::Apache | Flavor::Caddy => "httpd_can_network_connect",
        Flavor::Varnish => "varnishd_connect_any",
        // No SELinux policy module for Envoy; the ALB is not on this host (the fault is refused for both).
        Flavor::Envoy | Flavor::Alb => "httpd_can_network_connect",
    }
}

fn denied(ctx: &Ctx<'_>) -> bool {
    ctx.sim.world().scenario.faults.iter().any(|f| matches!(f.kind, FaultKind::SelinuxConnectDenied))
}

pub(super) fn getenforce(_ctx: &mut Ctx<'_>, _args: &[String]) -> Res {
    Res::with("Enforcing\n".into(), String::new(), 0)
}

pub(super) fn getsebool(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let flavor = ctx.sim.world().scenario.proxy.flavor;
    let off = denied(ctx);
    // The proxy's boolean is on unless the fault turned it off; the others
    // keep RHEL's defaults (off).
    let state = |name: &str| format!("{name} --> {}\n", if name == boolean(flavor) && !off { "on" } else { "off" });
    let names: Vec<String> = match args {
        [] => return Res::with(String::new(), "usage:  getsebool -a or getsebool boolean...\n".into(), 1),
        [a] if a == "-a" => vec!["haproxy_connect_any".into(), "httpd_can_network_connect".into(), "httpd_can_network_connect_db".into(), "httpd_can_network_relay".into()],
        names => names.to_vec(),
    };
    let mut out = String::new();
    for n in &names {
        if !["haproxy_connect_any", "httpd_can_network_connect", "httpd_can_network_connect_db", "httpd_can_network_relay"].contains(&n.as_str()) {
            return Res::with(out, format!("Error getting active value for {n}\n"), 1);
        }
        out.push_str(&state(n));
    }
    Res::with(out, String::new(), 0)
}

/// `ausearch -m avc [-ts recent]`: one record per connect() the policy refused.
pub(super) fn ausearch(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let wants_avc = args.windows(2).any(|w| w[0] == "-m" && w[1].eq_ignore_ascii_case("avc"));
    if !wants_avc {
        return Res::with(String::new(), "ausearch: this terminal reads AVC records only: ausearch -m avc [-ts recent]\n".into(), 1);
    }
    let w = ctx.sim.world();
    let (comm, domain) = match w.scenario.proxy.flavor {
        Flavor::Nginx => ("nginx", "httpd_t"),
        Flavor::Haproxy => ("haproxy", "haproxy_t"),
        Flavor::Apache => ("apache2", "httpd_t"),
        // Fedora's caddy package labels /usr/bin/caddy httpd_exec_t.
        Flavor::Caddy => ("caddy", "httpd_t"),
        Flavor::Envoy | Flavor::Alb => ("envoy", "unconfined_service_t"),
        Flavor::Varnish => ("cache-worker", "varnishd_t"),
    };
    let pid = w.scenario.proxy.worker_pid;
    let mut out = String::new();
    let mut serial = 412u64;
    for ex in ctx.sim.exchanges() {
        for a in &ex.attempts {
            let denied = matches!(&a.result, AttemptResult::Failed { cause: FailureCause::PermissionDenied });
            let Ok(Address::Tcp { port, .. }) = Address::parse(&a.peer) else { continue };
            if !denied {
                continue;
            }
            let t = a.started;
            let secs = w.clock.unix(t);
            let ms = (t.as_micros() / 1_000) % 1_000;
            let label = if port < 1024 { "reserved_port_t" } else { "unreserved_port_t" };
            out.push_str("----\n");
            out.push_str(&format!("time->{}\n", w.clock.date(t).replacen(" UTC", "", 1)));
            out.push_str(&format!(
                "type=AVC msg=audit({secs}.{ms:03}:{serial}): avc:  denied  {{ name_connect }} for  pid={pid} comm=\"{comm}\" dest={port} scontext=system_u:system_r:{domain}:s0 tcontext=system_u:object_r:{label}:s0 tclass=tcp_socket permissive=0\n"
            ));
            serial += 1;
        }
    }
    if out.is_empty() {
        return Res::with(String::new(), "<no matches>\n".into(), 1);
    }
    Res::with(out, String::new(), 0)
}
