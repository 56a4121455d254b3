//! Older scenario documents, read as they meant it. `Scenario::from_json`
//! upgrades a document of an older `version` to [`SCENARIO_VERSION`] before
//! validating it, so share links, lessons and files written for an older
//! build keep their meaning.
//!
//! - Version 1 → 2: `tls_cert_invalid` no longer turns `proxy_ssl_verify`
//!   on (nginx's default is off, and an unverified certificate passes
//!   silently). A version-1 document with that fault relied on the forced
//!   verification, so it gets `proxy_ssl_verify: true`.
//! - Version 2 → 3: `proxy.localhost_ipv6` (on by default: `localhost` is
//!   `[::1]` and `127.0.0.1`, as Debian's /etc/hosts says). A version-2
//!   document resolved `localhost` to `127.0.0.1` only, so it gets `false`.

use super::fault::FaultKind;
use super::scenario::{Scenario, SCENARIO_VERSION};

/// The oldest version `Scenario::from_json` still reads.
pub const OLDEST_VERSION: u32 = 1;

/// Upgrades `sc` in place from its version to [`SCENARIO_VERSION`]; a
/// version outside `OLDEST_VERSION..SCENARIO_VERSION` is left for
/// `validate` to refuse.
pub fn upgrade(sc: &mut Scenario) {
    if sc.version == 1 {
        if sc.faults.iter().any(|f| matches!(f.kind, FaultKind::TlsCertInvalid { .. })) {
            sc.proxy.proxy_ssl_verify = true;
        }
        sc.version = 2;
    }
    if sc.version == 2 {
        sc.proxy.localhost_ipv6 = false;
        sc.version = 3;
    }
    debug_assert!(sc.version == 0 || sc.version > SCENARIO_VERSION || sc.version == SCENARIO_VERSION);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_certificate_fault_keeps_its_forced_verification() {
        let old = Scenario::from_json(r#"{"version":1,"faults":[{"type":"tls_cert_invalid"}]}"#).unwrap();
        assert_eq!((old.version, old.proxy.proxy_ssl_verify), (3, true));
        let new = Scenario::from_json(r#"{"version":2,"faults":[{"type":"tls_cert_invalid"}]}"#).unwrap();
        assert_eq!((new.version, new.proxy.proxy_ssl_verify), (3, false));
        let plain = Scenario::from_json(r#"{"version":1}"#).unwrap();
        assert_eq!(plain, Scenario { proxy: crate::sim::scenario::ProxyConfig { localhost_ipv6: false, ..Default::default() }, ..Scenario::default() });
        assert!(Scenario::from_json(r#"{"version":4}"#).unwrap_err().0.contains("version: 4 is not supported"));
    }

    #[test]
    fn a_version_2_document_keeps_localhost_as_127_0_0_1_only() {
        let old = Scenario::from_json(r#"{"version":2,"proxy":{"proxy_pass":"http://localhost:3000"}}"#).unwrap();
        assert_eq!((old.version, old.proxy.localhost_ipv6), (3, false));
        let new = Scenario::from_json(r#"{"version":3,"proxy":{"proxy_pass":"http://localhost:3000"}}"#).unwrap();
        assert!(new.proxy.localhost_ipv6);
    }
}
