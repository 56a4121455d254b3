//! Why an upstream attempt failed, as typed data. The proxy flavours set it
//! where the failure happens and format their own log text from it (nginx's
//! error.log message, HAProxy's notes); explanations, the page and the
//! lessons branch on it, never on log text.

use serde::Serialize;

use super::fault::CertProblem;

/// Why a proxy→upstream attempt failed. The list is what the engine's
/// proxies actually run into; the names are the kernel's (errno) and the
/// proxies' own terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCause {
    /// ECONNREFUSED (111): nothing listens on the address; the kernel
    /// answered the SYN with RST.
    Refused,
    /// ENOENT (2): the unix socket file does not exist.
    NoSuchFile,
    /// EACCES (13): the unix socket exists but the proxy's user may not open it.
    PermissionDenied,
    /// ECONNRESET (104): the upstream reset the connection (RST) before
    /// sending a response header.
    Reset,
    /// The upstream closed the connection (FIN) without sending a response
    /// header (nginx: "upstream prematurely closed connection").
    PrematureClose,
    /// One of the proxy's timers fired (ETIMEDOUT, 110, in nginx's line).
    Timeout { phase: TimeoutPhase },
    /// The TLS handshake with the upstream failed.
    Tls(TlsProblem),
    /// The response header block was larger than the proxy's buffer for it
    /// (nginx: `proxy_buffer_size`; HAProxy: `tune.bufsize` minus
    /// `tune.maxrewrite`).
    TooBigHeader { bytes: u64, limit: u64 },
    /// A response header line the proxy refused (`line` as the app sent it).
    InvalidHeader { line: String },
    /// The upstream answered with bytes that are not an HTTP response
    /// (HAProxy; nginx relays them as HTTP/0.9 instead).
    NotHttp,
    /// The response body's chunked framing was invalid (nginx: "upstream
    /// sent invalid chunked response"; HAProxy: a parse error, `PH--`).
    InvalidChunked,
}

/// Which of the proxy's timers fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutPhase {
    /// No answer to the SYN (nginx `proxy_connect_timeout`, HAProxy `timeout connect`).
    Connect,
    /// The request body could not be written (nginx `proxy_send_timeout`).
    Send,
    /// No response header (nginx `proxy_read_timeout`, HAProxy `timeout server`).
    ReadHeader,
}

/// How a TLS handshake with the upstream failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsProblem {
    /// The handshake itself failed: the upstream did not answer the
    /// ClientHello with TLS (OpenSSL: "wrong version number").
    HandshakeFailure,
    /// The upstream's certificate failed verification, and why.
    CertVerify(CertProblem),
    /// The upstream aborted the handshake with this TLS alert (40:
    /// handshake_failure, 112: unrecognized_name).
    Alert(u8),
}

impl FailureCause {
    /// The errno the kernel reported, with its text (`strerror`), when the
    /// failure is a system call's error: `(111, "Connection refused")`.
    pub fn errno(&self) -> Option<(u16, &'static str)> {
        match self {
            FailureCause::Refused => Some((111, "Connection refused")),
            FailureCause::NoSuchFile => Some((2, "No such file or directory")),
            FailureCause::PermissionDenied => Some((13, "Permission denied")),
            FailureCause::Reset => Some((104, "Connection reset by peer")),
            FailureCause::Timeout { .. } => Some((110, "Connection timed out")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names() {
        assert_eq!(FailureCause::Refused.errno(), Some((111, "Connection refused")));
        assert_eq!(FailureCause::NoSuchFile.errno(), Some((2, "No such file or directory")));
        assert_eq!(FailureCause::Timeout { phase: TimeoutPhase::ReadHeader }.errno(), Some((110, "Connection timed out")));
        assert_eq!(FailureCause::PrematureClose.errno(), None);
    }
}
