//! WebSocket handshakes (issue 16 item 8): what the client sends, whether
//! the upgrade reaches the app through the proxy, and what the app answers.
//! The proxies' tunnel (101, then an idle timeout) lives with each proxy
//! (`proxy::nginx`); this module holds what both share.
//!
//! Measured on the real nginx 1.22.1 and HAProxy 2.6.12:
//! docs/research/nginx-1.22-observations-4.md §4 and observations-5.md §2.

use super::http::{reason_phrase, Header, Response};
use super::scenario::{Flavor, Scenario, WebSocketApp};

/// RFC 6455's example key, as the client's `Sec-WebSocket-Key`.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// Its `Sec-WebSocket-Accept` (RFC 6455, section 1.3).
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The handshake headers a WebSocket client adds to its GET.
pub fn request_headers() -> [(&'static str, &'static str); 4] {
    [("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", KEY)]
}

/// Does the client's `Upgrade`/`Connection` reach the app? nginx speaks
/// HTTP/1.0 to upstreams and drops hop-by-hop headers unless told:
/// `proxy_http_version 1.1` and `proxy_set_header Upgrade $http_upgrade;
/// proxy_set_header Connection "upgrade"` (a fixed `websocket` works too).
/// HAProxy passes the upgrade on as it is.
pub fn upgrade_reaches_app(sc: &Scenario) -> bool {
    match sc.proxy.flavor {
        Flavor::Haproxy => true,
        // Not measured: these flavors refuse a WebSocket scenario
        // (`proxy::unmeasured_issue16`), so this is never asked of them.
        Flavor::Apache | Flavor::Caddy | Flavor::Varnish | Flavor::Envoy | Flavor::Alb => false,
        Flavor::Nginx => {
            let p = &sc.proxy;
            let header = |name: &str| p.proxy_set_header.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_ascii_lowercase());
            p.proxy_http_version == "1.1"
                && header("Upgrade").is_some_and(|v| v == "$http_upgrade" || v == "websocket")
                && header("Connection").is_some_and(|v| v.split(',').any(|t| t.trim() == "upgrade"))
        }
    }
}

/// What a WebSocket app answers a handshake: 101 when the upgrade reached
/// it, else `426 Upgrade Required` (`ws`, 16 bytes) or 400 with engine.io's
/// error (socket.io, 34 bytes). None: a plain HTTP app answers as usual.
pub fn answer(kind: WebSocketApp, upgraded: bool) -> Option<Response> {
    let text = |status: u16, ctype: &'static str, body: &'static str| Response {
        status,
        reason: reason_phrase(status).into(),
        headers: vec![Header::new("Content-Type", ctype), Header::new("Content-Length", body.len().to_string())],
        body: body.to_string().into(),
    };
    match (kind, upgraded) {
        (WebSocketApp::None, _) => None,
        (_, true) => Some(Response {
            status: 101,
            reason: reason_phrase(101).into(),
            headers: vec![Header::new("Upgrade", "websocket"), Header::new("Connection", "Upgrade"), Header::new("Sec-WebSocket-Accept", ACCEPT)],
            body: String::new().into(),
        }),
        (WebSocketApp::Ws, false) => Some(text(426, "text/plain", "Upgrade Required")),
        (WebSocketApp::Socketio, false) => Some(text(400, "application/json", "{\"code\":3,\"message\":\"Bad request\"}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upgrade_needs_http_1_1_and_both_headers_in_nginx() {
        let mut sc = Scenario::default();
        assert!(!upgrade_reaches_app(&sc));
        sc.proxy.proxy_http_version = "1.1".into();
        assert!(!upgrade_reaches_app(&sc));
        sc.proxy.proxy_set_header.insert("Upgrade".into(), "$http_upgrade".into());
        assert!(!upgrade_reaches_app(&sc));
        sc.proxy.proxy_set_header.insert("Connection".into(), "upgrade".into());
        assert!(upgrade_reaches_app(&sc));
        sc.proxy.proxy_http_version = "1.0".into();
        assert!(!upgrade_reaches_app(&sc));
        sc.proxy.flavor = Flavor::Haproxy;
        assert!(upgrade_reaches_app(&sc));
        assert_eq!(answer(WebSocketApp::Ws, false).unwrap().body.len(), 16);
        assert_eq!(answer(WebSocketApp::Socketio, false).unwrap().body.len(), 34);
        assert_eq!(answer(WebSocketApp::Ws, true).unwrap().status, 101);
        assert!(answer(WebSocketApp::None, true).is_none());
    }
}
