//! `proxy_ssl_server_name` and `proxy_ssl_name`: the server name nginx
//! sends in its ClientHello (SNI) to an https upstream. Off by default, so
//! nginx sends none, and an upstream that requires SNI aborts the handshake
//! (alert 40). On, it sends `proxy_ssl_name`, whose default is the host of
//! `proxy_pass` (an `upstream` block's name, or the host of `host:port`);
//! never an IP literal (ngx_http_upstream_ssl_name skips one). Measured on
//! a real 1.22.1: docs/research/nginx-1.22-observations-3.md section 3. The
//! HAProxy flavor exports the same name as `sni str(...)` on its server lines.

use crate::sim::net::{ProxyPass, Target};
use crate::sim::scenario::Scenario;

/// `proxy_ssl_name`: the name nginx sends (with `proxy_ssl_server_name on`)
/// and checks the certificate against (with `proxy_ssl_verify on`).
pub fn ssl_name(sc: &Scenario) -> String {
    if !sc.proxy.proxy_ssl_name.is_empty() {
        return sc.proxy.proxy_ssl_name.clone();
    }
    match ProxyPass::parse(&sc.proxy.proxy_pass).map(|p| p.host) {
        Ok(Target::Group(g)) => g,
        Ok(Target::Addr(a)) => a.host().unwrap_or("localhost").to_string(),
        Err(_) => String::new(),
    }
}

/// The SNI of nginx's ClientHello, or None (off, or an IP literal).
pub fn sni(sc: &Scenario) -> Option<String> {
    if !sc.proxy.proxy_ssl_server_name {
        return None;
    }
    let name = ssl_name(sc);
    let ip = name.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok();
    (!ip && !name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_sends_the_name_only_when_asked_and_never_an_ip() {
        let mut sc = Scenario::default();
        sc.proxy.proxy_pass = "https://app".into();
        assert_eq!(sni(&sc), None);
        sc.proxy.proxy_ssl_server_name = true;
        assert_eq!(sni(&sc).as_deref(), Some("app"));
        sc.proxy.proxy_pass = "https://127.0.0.1:3000".into();
        assert_eq!(sni(&sc), None);
        sc.proxy.proxy_ssl_name = "api.example.com".into();
        assert_eq!(sni(&sc).as_deref(), Some("api.example.com"));
    }
}
