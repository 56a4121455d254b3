//! HAProxy's termination state (the `termination_state` field of an
//! httplog line, `sH--`), typed and explained in words.
//!
//! The meanings are HAProxy 2.6's own: docs/configuration.txt, section
//! "8.5. Session state at disconnection" (the Debian package installs it as
//! /usr/share/doc/haproxy/configuration.txt.gz). The first character says
//! which event ended the session, the second what the session was doing;
//! the last two are about the persistence cookie, which the scenarios never
//! configure (`--`: does not apply).

use std::fmt;

/// What ended the session: the code's first character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ender {
    /// `C`: the client aborted the TCP session unexpectedly.
    Client,
    /// `S`: the server aborted the session, or explicitly refused it.
    Server,
    /// `P`: the proxy aborted it (a connection limit, a deny rule, a
    /// security check on the server's response).
    Proxy,
    /// `L`: HAProxy processed it locally (stats, redirects).
    Local,
    /// `R`: a resource on the proxy ran out (memory, sockets, source ports).
    Resource,
    /// `I`: HAProxy found an internal error in a self-check.
    Internal,
    /// `D`: killed because the server was detected as down.
    Down,
    /// `U`: killed on a backup server because an active server came up.
    Up,
    /// `K`: killed by an administrator.
    Killed,
    /// `c`: the client-side timeout expired.
    ClientTimeout,
    /// `s`: the server-side timeout expired.
    ServerTimeout,
    /// `-`: normal completion.
    Normal,
}

/// What the session was doing when it ended: the code's second character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// `R`: waiting for a complete, valid request from the client.
    Request,
    /// `Q`: waiting in the queue for a connection slot.
    Queue,
    /// `C`: waiting for the connection to the server to establish.
    Connect,
    /// `H`: waiting for the server's complete, valid response headers.
    Headers,
    /// `D`: the data phase.
    Data,
    /// `L`: still sending the last data to the client.
    Last,
    /// `T`: the request was tarpitted.
    Tarpit,
    /// `-`: normal completion after the data transfer.
    Done,
}

/// A termination state: who ended the session, and in which phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TerminationState {
    pub by: Ender,
    pub phase: Phase,
}

impl Ender {
    pub fn from_char(c: char) -> Option<Ender> {
        Some(match c {
            'C' => Ender::Client,
            'S' => Ender::Server,
            'P' => Ender::Proxy,
            'L' => Ender::Local,
            'R' => Ender::Resource,
            'I' => Ender::Internal,
            'D' => Ender::Down,
            'U' => Ender::Up,
            'K' => Ender::Killed,
            'c' => Ender::ClientTimeout,
            's' => Ender::ServerTimeout,
            '-' => Ender::Normal,
            _ => return None,
        })
    }

    pub fn as_char(self) -> char {
        match self {
            Ender::Client => 'C',
            Ender::Server => 'S',
            Ender::Proxy => 'P',
            Ender::Local => 'L',
            Ender::Resource => 'R',
            Ender::Internal => 'I',
            Ender::Down => 'D',
            Ender::Up => 'U',
            Ender::Killed => 'K',
            Ender::ClientTimeout => 'c',
            Ender::ServerTimeout => 's',
            Ender::Normal => '-',
        }
    }
}

impl Phase {
    pub fn from_char(c: char) -> Option<Phase> {
        Some(match c {
            'R' => Phase::Request,
            'Q' => Phase::Queue,
            'C' => Phase::Connect,
            'H' => Phase::Headers,
            'D' => Phase::Data,
            'L' => Phase::Last,
            'T' => Phase::Tarpit,
            '-' => Phase::Done,
            _ => return None,
        })
    }

    pub fn as_char(self) -> char {
        match self {
            Phase::Request => 'R',
            Phase::Queue => 'Q',
            Phase::Connect => 'C',
            Phase::Headers => 'H',
            Phase::Data => 'D',
            Phase::Last => 'L',
            Phase::Tarpit => 'T',
            Phase::Done => '-',
        }
    }

    /// "while ...": the phase in words.
    fn words(self) -> &'static str {
        match self {
            Phase::Request => "while HAProxy waited for a complete, valid request from the client (nothing was sent to any server)",
            Phase::Queue => "while the request waited in the queue for a connection slot on a server",
            Phase::Connect => "while HAProxy was connecting to the server",
            Phase::Headers => "while HAProxy waited for the server's complete, valid response headers",
            Phase::Data => "during the data phase, with the response body on its way",
            Phase::Last => "while HAProxy was still sending the last data to the client, the server having finished",
            Phase::Tarpit => "while the request was held in the tarpit",
            Phase::Done => "after the whole response was transferred",
        }
    }
}

impl TerminationState {
    /// From the code's first two characters (`"sH"`, `"sH--"`).
    pub fn parse(code: &str) -> Option<TerminationState> {
        let mut chars = code.chars();
        let by = Ender::from_char(chars.next()?)?;
        let phase = Phase::from_char(chars.next()?)?;
        Some(TerminationState { by, phase })
    }

    /// The termination state of an httplog line (`option httplog`), or
    /// None for a line in another format (nginx's access.log). The field
    /// comes after the status, the byte count and the two captured cookies:
    /// `... 0/0/0/-1/60001 504 198 - - sH-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`.
    pub fn of_httplog(line: &str) -> Option<TerminationState> {
        let f: Vec<&str> = line.split_ascii_whitespace().take(10).collect();
        let timers = *f.get(4)?;
        let is_httplog = timers.split('/').count() == 5 && f.get(1)?.starts_with('[');
        let code = *f.get(9)?;
        if !is_httplog || code.chars().count() != 4 {
            return None;
        }
        TerminationState::parse(code)
    }

    /// The four-character code as logged (`sH--`: no persistence cookie).
    pub fn code(self) -> String {
        format!("{}{}--", self.by.as_char(), self.phase.as_char())
    }

    /// One sentence, in words, after HAProxy 2.6's documentation.
    pub fn sentence(self) -> String {
        use Ender::*;
        use Phase::*;
        let code = self.code();
        let what = match (self.by, self.phase) {
            (Normal, Done) => "normal completion: the client and the server both closed, with nothing left in the buffers".to_string(),
            (Server, Connect) => "the server, or something between it and HAProxy, refused the TCP connection (HAProxy got a TCP RST or an ICMP message) while HAProxy was connecting to it".into(),
            (ServerTimeout, Connect) => "timeout connect expired before the connection to the server could complete".into(),
            (ServerTimeout, Headers) => "timeout server expired before the server returned its response headers, the most common sign of an overloaded server or a slow transaction".into(),
            (ServerTimeout, Queue) => "the request spent longer than timeout queue in the queue, waiting for a connection slot on a server".into(),
            (ServerTimeout, phase) => format!("timeout server expired {}", phase.words()),
            (Server, Headers) => "the server closed or reset the connection before sending its full response headers, or it crashed while processing the request".into(),
            (Server, Data) => "the connection to the server died during the data transfer: it closed or reset it with the body incomplete (a crash, or a network problem)".into(),
            (Proxy, Headers) => "HAProxy blocked the server's response because it was invalid, incomplete or dangerous (for example a header name with forbidden characters, or headers too large for its buffer), and answered 502 itself".into(),
            (Proxy, Request) => "HAProxy blocked the client's request itself (a deny rule, such as a rate limit), so no server saw it".into(),
            (Proxy, Connect) => "HAProxy refused to connect to the server because the process reached its socket limit (maxconn)".into(),
            (Client, Connect) => "the client aborted before the connection to the server was established".into(),
            (Client, Headers) => "the client aborted while HAProxy waited for the server to start responding".into(),
            (Client, Data) => "the client aborted unexpectedly during the data transfer".into(),
            (Client, Queue) => "the client aborted while its request was queued, waiting for a server with a free slot".into(),
            (Client, Request) => "the client aborted before it had sent a full HTTP request".into(),
            (ClientTimeout, Request) => "timeout http-request expired before the client sent a full HTTP request".into(),
            (ClientTimeout, phase) => format!("timeout client expired {}", phase.words()),
            (Local, _) => format!("HAProxy handled the request itself and passed it to no server (a redirect or the stats page), {}", self.phase.words()),
            (by, phase) => {
                let who = match by {
                    Client => "the client aborted the session",
                    Server => "the server aborted or refused the session",
                    Proxy => "HAProxy aborted the session itself (a connection limit, a deny rule or a security check)",
                    Resource => "a resource on the proxy ran out (memory, sockets, source ports), a serious anomaly",
                    Internal => "HAProxy found an internal error in a self-check (a bug)",
                    Down => "HAProxy killed the session because the server was detected as down",
                    Up => "HAProxy killed the session on this backup server because an active server came back up",
                    Killed => "an administrator killed the session",
                    Normal => "the session ended without an error",
                    ClientTimeout | ServerTimeout | Local => unreachable!("handled above"),
                };
                format!("{who} {}", phase.words())
            }
        };
        format!("{code}: {what}.")
    }
}

impl fmt::Display for TerminationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENDERS: &str = "CSPLRIDUKcs-";
    const PHASES: &str = "RQCHDLT-";

    #[test]
    fn every_code_parses_back_and_has_a_sentence() {
        for b in ENDERS.chars() {
            for p in PHASES.chars() {
                let code = format!("{b}{p}--");
                let t = TerminationState::parse(&code).unwrap_or_else(|| panic!("{code}"));
                assert_eq!(t.code(), code);
                let s = t.sentence();
                assert!(s.starts_with(&format!("{code}: ")) && s.ends_with('.'), "{s}");
                assert!(!s.contains('`'), "{s}");
            }
        }
        assert_eq!(TerminationState::parse("xH--"), None);
        assert_eq!(TerminationState::parse("s"), None);
    }

    #[test]
    fn the_documented_meanings() {
        let s = |c: &str| TerminationState::parse(c).unwrap().sentence();
        assert!(s("sH--").contains("timeout server expired before the server returned its response headers"));
        assert!(s("sC--").contains("timeout connect expired"));
        assert!(s("SC--").contains("refused the TCP connection"));
        assert!(s("PH--").contains("blocked the server's response"));
        assert!(s("sQ--").contains("timeout queue"));
        assert!(s("cD--").contains("timeout client expired during the data phase"));
        assert!(s("CD--").contains("client aborted unexpectedly during the data transfer"));
        assert!(s("----").contains("normal completion"));
    }

    #[test]
    fn reads_the_code_of_an_httplog_line_only() {
        let line = "127.0.0.1:40001 [06/Dec/2026:10:00:00.000] fe_main be_app/app1 0/0/0/-1/60001 504 198 - - sH-- 1/1/0/0/0 0/0 \"GET /users HTTP/1.1\"";
        assert_eq!(TerminationState::of_httplog(line), Some(TerminationState { by: Ender::ServerTimeout, phase: Phase::Headers }));
        let nginx = "127.0.0.1 - - [06/Dec/2026:10:00:00 +0000] \"GET /users HTTP/1.1\" 502 157 \"-\" \"curl/7.88.1\"";
        assert_eq!(TerminationState::of_httplog(nginx), None);
        assert_eq!(TerminationState::of_httplog(""), None);
    }
}
