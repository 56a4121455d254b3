//! Addresses and `proxy_pass` targets, parsed once and shared by the
//! proxy, the apps and the config export.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Address {
    Tcp { host: String, port: u16 },
    Unix { path: String },
}

impl Address {
    pub fn parse(s: &str) -> Result<Address, String> {
        if let Some(path) = s.strip_prefix("unix:") {
            if !path.starts_with('/') || path.len() > 107 {
                return Err(format!("unix socket path must be absolute and at most 107 bytes, got {s:?}"));
            }
            return Ok(Address::Unix { path: path.to_string() });
        }
        if let Some(rest) = s.strip_prefix('[') {
            // `[::1]:5000`: an IPv6 literal in brackets, as nginx writes it.
            let (ip, port) = rest.split_once("]:").ok_or_else(|| format!("expected [ipv6]:port, got {s:?}"))?;
            // Validated by std's parser, kept as written (lower case): no
            // IPv6 formatting code in the bundle.
            ip.parse::<std::net::Ipv6Addr>().map_err(|_| format!("bad IPv6 address in {s:?}"))?;
            let port: u16 = port.parse().map_err(|_| format!("bad port in {s:?}"))?;
            if port == 0 {
                return Err(format!("port must not be 0 in {s:?}"));
            }
            return Ok(Address::Tcp { host: ip.to_ascii_lowercase(), port });
        }
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| format!("expected host:port or unix:/path, got {s:?}"))?;
        if host.contains(':') {
            return Err(format!("an IPv6 address needs brackets: [{host}]:{port}, got {s:?}"));
        }
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') {
            return Err(format!("bad host in {s:?}"));
        }
        let port: u16 = port.parse().map_err(|_| format!("bad port in {s:?}"))?;
        if port == 0 {
            return Err(format!("port must not be 0 in {s:?}"));
        }
        Ok(Address::Tcp { host: host.to_string(), port })
    }

    /// True for a literal IPv4 or IPv6 address (no name resolution needed).
    pub fn is_ip(&self) -> bool {
        match self {
            Address::Tcp { host, .. } => host.parse::<std::net::IpAddr>().is_ok(),
            Address::Unix { .. } => true,
        }
    }

    pub fn host(&self) -> Option<&str> {
        match self {
            Address::Tcp { host, .. } => Some(host),
            Address::Unix { .. } => None,
        }
    }

    pub fn port(&self) -> Option<u16> {
        match self {
            Address::Tcp { port, .. } => Some(*port),
            Address::Unix { .. } => None,
        }
    }

    /// True for an IPv6 literal (`::1`).
    pub fn is_ipv6(&self) -> bool {
        matches!(self, Address::Tcp { host, .. } if host.parse::<std::net::Ipv6Addr>().is_ok())
    }

    /// The same address with a name resolved to `ip`.
    pub fn resolved(&self, ip: &str) -> Address {
        match self {
            Address::Tcp { port, .. } => Address::Tcp { host: ip.to_string(), port: *port },
            u => u.clone(),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Unix { path } => write!(f, "unix:{path}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `http://app` naming an `upstream` block.
    Group(String),
    /// `http://127.0.0.1:3000`, `http://app.internal:3000`, `http://unix:/x.sock`.
    Addr(Address),
}

/// A parsed `proxy_pass` (without a URI part: the client's URI is passed on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyPass {
    pub scheme: Scheme,
    pub host: Target,
}

impl ProxyPass {
    pub fn parse(s: &str) -> Result<ProxyPass, String> {
        let (scheme, rest) = if let Some(r) = s.strip_prefix("http://") {
            (Scheme::Http, r)
        } else if let Some(r) = s.strip_prefix("https://") {
            (Scheme::Https, r)
        } else {
            return Err(format!("must start with http:// or https://, got {s:?}"));
        };
        if rest.is_empty() {
            return Err("names no upstream".into());
        }
        if rest.starts_with("unix:") {
            // nginx: "unix:/path.sock:" with the trailing colon before a URI.
            let path = rest.trim_end_matches(':');
            return Ok(ProxyPass { scheme, host: Target::Addr(Address::parse(path)?) });
        }
        if rest.contains('/') {
            return Err(format!("a URI part in proxy_pass is not modelled yet, got {s:?}"));
        }
        if rest.contains(':') {
            return Ok(ProxyPass { scheme, host: Target::Addr(Address::parse(rest)?) });
        }
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.') {
            return Err(format!("bad upstream name in {s:?}"));
        }
        Ok(ProxyPass { scheme, host: Target::Group(rest.to_string()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_nginx_accepts() {
        assert_eq!(
            ProxyPass::parse("http://app").unwrap().host,
            Target::Group("app".into())
        );
        assert_eq!(
            ProxyPass::parse("https://127.0.0.1:3443").unwrap(),
            ProxyPass { scheme: Scheme::Https, host: Target::Addr(Address::Tcp { host: "127.0.0.1".into(), port: 3443 }) }
        );
        assert_eq!(
            ProxyPass::parse("http://unix:/run/app.sock:").unwrap().host,
            Target::Addr(Address::Unix { path: "/run/app.sock".into() })
        );
        assert!(ProxyPass::parse("ftp://x").is_err());
        assert!(Address::parse("127.0.0.1:99999").is_err());
        assert!(Address::parse("unix:relative.sock").is_err());
        let v6 = Address::parse("[::1]:5000").unwrap();
        assert_eq!(v6, Address::Tcp { host: "::1".into(), port: 5000 });
        assert_eq!((v6.to_string(), v6.is_ip(), v6.is_ipv6()), ("[::1]:5000".to_string(), true, true));
        assert_eq!(ProxyPass::parse("http://[::1]:5000").unwrap().host, Target::Addr(v6));
        assert!(Address::parse("::1:5000").unwrap_err().contains("needs brackets"));
        assert!(Address::parse("[::g]:5000").is_err());
        assert!(Address::parse("[::1]:0").is_err());
    }
}
