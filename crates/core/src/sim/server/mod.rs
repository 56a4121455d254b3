//! The application server an app runs (`App::server`): Node.js (the
//! generic app of every older scenario), gunicorn, PHP-FPM or uWSGI. Each
//! kind is one module behind the functions here: the protocol nginx speaks
//! to it (`proxy_pass` HTTP, `fastcgi_pass`, `uwsgi_pass`), how many
//! requests it serves at once, whether it keeps a connection alive, what it
//! does to a request it takes (a worker killed at its timeout, a request
//! block it refuses) and its own log lines. The facts are those measured in
//! docs/research/app-servers-observations.md.

pub mod gunicorn;
pub mod node;
pub mod php_fpm;
pub mod uwsgi;

use serde::{Deserialize, Serialize};

use super::scenario::App;
use super::time::SimTime;

/// nginx's `root` in the exported config for FastCGI and uwsgi
/// (`$document_root`: SCRIPT_FILENAME, DOCUMENT_ROOT).
pub const ROOT: &str = "/var/www/html";

/// Which server program the app is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ServerKind {
    /// Node.js `http.createServer` (today's generic app).
    #[default]
    #[serde(rename = "node")]
    Node,
    /// gunicorn 20.1 (a WSGI app, HTTP).
    #[serde(rename = "gunicorn")]
    Gunicorn,
    /// PHP-FPM 8.2 (FastCGI).
    #[serde(rename = "php-fpm")]
    PhpFpm,
    /// uWSGI 2.0 (its own uwsgi protocol).
    #[serde(rename = "uwsgi")]
    Uwsgi,
}

impl ServerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ServerKind::Node => "node",
            ServerKind::Gunicorn => "gunicorn",
            ServerKind::PhpFpm => "php-fpm",
            ServerKind::Uwsgi => "uwsgi",
        }
    }

    pub fn all() -> [ServerKind; 4] {
        [ServerKind::Node, ServerKind::Gunicorn, ServerKind::PhpFpm, ServerKind::Uwsgi]
    }

    pub fn protocol(self) -> Protocol {
        match self {
            ServerKind::Node | ServerKind::Gunicorn => Protocol::Http,
            ServerKind::PhpFpm => Protocol::FastCgi,
            ServerKind::Uwsgi => Protocol::Uwsgi,
        }
    }

    pub fn is_node(&self) -> bool {
        *self == ServerKind::Node
    }
}

/// The protocol nginx speaks to the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http,
    FastCgi,
    Uwsgi,
}

impl Protocol {
    /// nginx's directive prefix: `proxy_`, `fastcgi_`, `uwsgi_`.
    pub fn prefix(self) -> &'static str {
        match self {
            Protocol::Http => "proxy",
            Protocol::FastCgi => "fastcgi",
            Protocol::Uwsgi => "uwsgi",
        }
    }

    /// The schema in error.log's `upstream:` field (`u->schema`), for a
    /// non-HTTP protocol (HTTP's follows proxy_pass: http:// or https://).
    pub fn schema(self) -> Option<&'static str> {
        match self {
            Protocol::Http => None,
            Protocol::FastCgi => Some("fastcgi"),
            Protocol::Uwsgi => Some("uwsgi"),
        }
    }
}

/// The protocol nginx speaks to the scenario's upstream: that of its first
/// app's server (all apps behind one `*_pass` speak the same; `validate`
/// checks it). HTTP when there is no app.
pub fn protocol(apps: &[App]) -> Protocol {
    apps.first().map(|a| a.server.protocol()).unwrap_or(Protocol::Http)
}

/// Requests the app serves at once: node's `workers`, gunicorn's
/// `workers` (× `threads` for gthread), PHP-FPM's `pm.max_children`,
/// uWSGI's `processes`.
pub fn concurrency(app: &App) -> u32 {
    match app.server {
        ServerKind::Node => app.workers,
        ServerKind::Gunicorn => app.gunicorn.concurrency(),
        ServerKind::PhpFpm => app.php_fpm.max_children,
        ServerKind::Uwsgi => app.uwsgi.processes,
    }
}

/// How long the app keeps an idle connection open after a response (ms),
/// or None when it closes after every response: gunicorn's sync worker
/// (`Connection: close`), PHP-FPM (nginx's `fastcgi_keep_conn off`) and
/// uWSGI (one request per uwsgi connection).
pub fn keepalive_ms(app: &App) -> Option<u64> {
    match app.server {
        ServerKind::Node => Some(app.keepalive_timeout_ms),
        ServerKind::Gunicorn => app.gunicorn.keepalive_ms(),
        ServerKind::PhpFpm | ServerKind::Uwsgi => None,
    }
}

/// What a server does to a request it reads, instead of answering it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Abort {
    /// gunicorn's arbiter aborts the worker at `timeout` (FIN).
    GunicornTimeout,
    /// PHP-FPM's master terminates the child at `request_terminate_timeout`
    /// (RST); the request began at `since`.
    FpmTerminate { script: String, request: String, since: SimTime },
    /// uWSGI's master kills the worker at `harakiri` (FIN).
    Harakiri { request: String, since: SimTime },
    /// uWSGI refuses a request block larger than `buffer-size` (RST).
    BlockTooBig { size: u64, max: u64 },
}

impl Abort {
    /// The kernel answers with RST (unread bytes) rather than FIN.
    pub fn reset(&self) -> bool {
        matches!(self, Abort::FpmTerminate { .. } | Abort::BlockTooBig { .. })
    }
}

/// Validates the server's settings; errors name the field under `f` (`apps[0]`).
pub fn validate(app: &App, f: &str) -> Result<(), String> {
    match app.server {
        ServerKind::Node => Ok(()),
        ServerKind::Gunicorn => app.gunicorn.validate(&format!("{f}.gunicorn")),
        ServerKind::PhpFpm => app.php_fpm.validate(&format!("{f}.php_fpm")),
        ServerKind::Uwsgi => app.uwsgi.validate(&format!("{f}.uwsgi")),
    }
}

/// Why app `app` closed or reset a connection without a reply, when its
/// server did it on purpose (the explanation of nginx's 502), in words:
/// `reset` is what nginx read (RST rather than FIN). `read_timeout_ms` is
/// nginx's `*_read_timeout`.
pub fn explain_close(app: &App, reset: bool, read_timeout_ms: u64) -> Option<String> {
    let p = app.server.protocol().prefix();
    match (app.server, reset) {
        (ServerKind::Gunicorn, false) => Some(format!(
            "gunicorn's arbiter aborted the worker that had the request after --timeout {} s ([CRITICAL] WORKER TIMEOUT in gunicorn's log), and the connection closed without a reply: nginx logs \"upstream prematurely closed connection\" and answers 502. Raising {p}_read_timeout ({} ms) makes no difference, because gunicorn kills the worker first; only a {p}_read_timeout below gunicorn's timeout turns it into a 504. Fix: make the request faster, or raise gunicorn's --timeout (and keep {p}_read_timeout above it).",
            app.gunicorn.timeout, read_timeout_ms
        )),
        (ServerKind::PhpFpm, true) => Some(format!(
            "PHP-FPM terminated the child running the script at request_terminate_timeout ({} s; \"execution timed out … terminating\" in php-fpm's log), and the connection was reset: nginx logs \"recv() failed (104: Connection reset by peer)\" and answers 502. Fix: make the script faster, or raise request_terminate_timeout (and fastcgi_read_timeout with it).",
            app.php_fpm.request_terminate_timeout
        )),
        (ServerKind::Uwsgi, true) => Some(format!(
            "uWSGI refused the request: nginx's uwsgi request block (every header as a var, the Cookie included) is larger than uWSGI's buffer-size ({} bytes; \"invalid request block size … skip\" in uWSGI's log). uWSGI closed with the request unread, so nginx read a reset (\"recv() failed (104: Connection reset by peer)\") and answered 502. That is why a private window (no cookies) works. Fix: raise uWSGI's buffer-size (e.g. 32768), or send smaller cookies.",
            app.uwsgi.buffer_size
        )),
        (ServerKind::Uwsgi, false) if app.uwsgi.harakiri > 0 => Some(format!(
            "uWSGI's harakiri ({} s) killed the worker that had the request with SIGKILL (\"HARAKIRI ON WORKER\" in uWSGI's log), and the connection closed without a reply: nginx logs \"upstream prematurely closed connection\" and answers 502. Raising uwsgi_read_timeout makes no difference. Fix: make the request faster, or raise harakiri.",
            app.uwsgi.harakiri
        )),
        _ => None,
    }
}

/// Every server kind's settings with their defaults, as JSON fields of an
/// app (`gunicorn`, `php_fpm`, `uwsgi`): a default app leaves them out of
/// its JSON (lessons check pointers into them).
pub fn full_settings() -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    let d = App::default();
    for (k, v) in [
        ("gunicorn", serde_json::to_value(&d.gunicorn)),
        ("php_fpm", serde_json::to_value(&d.php_fpm)),
        ("uwsgi", serde_json::to_value(&d.uwsgi)),
    ] {
        if let Ok(v) = v {
            m.insert(k.to_string(), v);
        }
    }
    m
}
