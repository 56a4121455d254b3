//! The diagnosis terminal: a small shell in which learners run an
//! administrator's commands on the proxy host (`root@web1`) against the
//! simulated world. Pure: no web imports, no wall clock (enforced by
//! tests/sim_is_pure.rs). Every answer is read from the simulation, or, for
//! `curl`, produced by it: a request through the proxy is a real simulated
//! request (it appears in the access log), and a request straight to an app
//! gets what the app's faults make it answer.
//!
//! This file parses a command line (words, quotes, `|` pipes, the
//! redirections `2>&1`, `2>/dev/null`, `>/dev/null`), runs the pipeline and
//! dispatches each command. The host every tool describes is `host.rs`.
//! Commands: `help`, `curl` (curl.rs), `systemctl`, `service` and
//! `journalctl` (systemd.rs), `nginx -t|-s reload` and `haproxy -c`
//! (proxytools.rs), `ss` (ss.rs), `docker` (docker.rs), `cat`, `tail`, `head`,
//! `ls` (files.rs), `grep`, `wc` (filters.rs), `date`, `sudo -u USER`,
//! `clear`. Output formats follow Debian 12: systemd 252, iproute2 6.1,
//! curl 7.88.1, docker 20.10, GNU coreutils and grep. Nothing here panics,
//! whatever the input (tests/shell.rs throws arbitrary strings at it).

mod curl;
mod docker;
mod files;
mod filters;
pub mod host;
mod proxytools;
mod ps;
mod ss;
mod systemd;
mod selinux;

use crate::sim::scenario::Flavor;
use crate::sim::Simulation;

use host::User;

/// What a command line printed (stdout and stderr, in the order a terminal
/// shows them) and its exit status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub text: String,
    pub status: i32,
    /// `clear` was run: the terminal empties its screen.
    pub clear: bool,
}

/// Longest command line accepted.
pub const MAX_LINE: usize = 4_096;
/// Most commands in one pipeline.
pub const MAX_STAGES: usize = 16;
/// Output beyond this many bytes is cut (a 1 MiB response body, say).
pub const MAX_OUTPUT: usize = 256 * 1024;

/// The terminal width tools assume when none is given.
pub const DEFAULT_COLS: usize = 80;

/// Runs one command line against the simulation, on an 80-column terminal.
pub fn run(sim: &mut Simulation, line: &str) -> Output {
    run_in(sim, line, DEFAULT_COLS)
}

/// Runs one command line on a terminal `cols` columns wide (tools that
/// fit their output to the terminal, `ss` and `systemctl status`, use it).
pub fn run_in(sim: &mut Simulation, line: &str, cols: usize) -> Output {
    let cols = cols.clamp(20, 500);
    let mut out = match parse(line) {
        Ok(stages) if stages.is_empty() => Output { text: String::new(), status: 0, clear: false },
        Ok(stages) => run_pipeline(sim, stages, cols),
        Err(e) => Output { text: format!("{e}\n"), status: 2, clear: false },
    };
    if out.text.len() > MAX_OUTPUT {
        let mut cut = MAX_OUTPUT;
        while !out.text.is_char_boundary(cut) {
            cut -= 1;
        }
        out.text.truncate(cut);
        out.text.push_str("\n[output cut at 256 KiB by the terminal]\n");
    }
    out
}

/// Which stream a piece of output went to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

/// What one command wrote, in order, and its exit status.
#[derive(Debug, Default)]
struct Res {
    chunks: Vec<(Stream, String)>,
    status: i32,
    clear: bool,
}

impl Res {
    fn ok() -> Res {
        Res::default()
    }

    fn status(status: i32) -> Res {
        Res { status, ..Res::default() }
    }

    fn out(&mut self, s: impl Into<String>) -> &mut Res {
        self.chunks.push((Stream::Out, s.into()));
        self
    }

    fn err(&mut self, s: impl Into<String>) -> &mut Res {
        self.chunks.push((Stream::Err, s.into()));
        self
    }

    /// stdout and stderr, each with a trailing newline, and a status.
    fn with(out: String, err: String, status: i32) -> Res {
        let mut r = Res::status(status);
        if !out.is_empty() {
            r.out(out);
        }
        if !err.is_empty() {
            r.err(err);
        }
        r
    }
}

/// The context a command runs in.
struct Ctx<'a> {
    sim: &'a mut Simulation,
    user: User,
    /// stdout is a pipe or /dev/null, not the terminal (curl's progress
    /// meter, ss's compact columns).
    piped: bool,
    /// The terminal's width in columns.
    cols: usize,
}

/// One command of a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Stage {
    words: Vec<String>,
    /// `2>&1`.
    err_to_out: bool,
    /// `2>/dev/null`.
    drop_err: bool,
    /// `>/dev/null`.
    drop_out: bool,
}

/// Splits a line into pipeline stages the way bash reads words: blanks
/// separate, `'…'` is literal, `"…"` keeps `\"`, `\\`, `\$` and `` \` ``
/// escapes, `\` outside quotes escapes one character, `#` starts a comment.
fn parse(line: &str) -> Result<Vec<Stage>, String> {
    if line.len() > MAX_LINE {
        return Err(format!("bash: command line too long (this terminal takes at most {MAX_LINE} bytes)"));
    }
    let mut stages = vec![Stage::default()];
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let unsupported = |what: &str| Err(format!("bash: {what}: this terminal runs single commands and pipes (|); lists, redirections to files and substitutions are not simulated"));
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    push_word(&mut stages, std::mem::take(&mut word))?;
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err("bash: unexpected EOF while looking for matching `''".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err("bash: unexpected EOF while looking for matching `\"'".into()),
                        },
                        Some('`') => return unsupported("`"),
                        Some('$') if chars.peek() == Some(&'(') => return unsupported("$("),
                        Some(ch) => word.push(ch),
                        None => return Err("bash: unexpected EOF while looking for matching `\"'".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    if ch != '\n' {
                        word.push(ch);
                    }
                }
            }
            '|' => {
                if chars.peek() == Some(&'|') {
                    return unsupported("||");
                }
                if in_word {
                    push_word(&mut stages, std::mem::take(&mut word))?;
                    in_word = false;
                }
                if stages.last().is_some_and(|s| s.words.is_empty()) {
                    return Err("bash: syntax error near unexpected token `|'".into());
                }
                if stages.len() >= MAX_STAGES {
                    return Err(format!("bash: this terminal runs at most {MAX_STAGES} commands in a pipeline"));
                }
                stages.push(Stage::default());
            }
            ';' => return unsupported(";"),
            '&' if chars.peek() == Some(&'&') => return unsupported("&&"),
            '&' if chars.peek() == Some(&'>') && !in_word => {
                chars.next();
                let target = redirect_target(&mut chars);
                if target != "/dev/null" {
                    return unsupported("&>");
                }
                let s = stages.last_mut().ok_or("bash: internal error")?;
                s.drop_out = true;
                s.drop_err = true;
            }
            '&' => return unsupported("&"),
            '>' | '<' => {
                // `2>&1`, `2>/dev/null`, `>/dev/null` (the `2` is the word so far).
                let fd = if in_word && word == "2" {
                    word.clear();
                    in_word = false;
                    2
                } else {
                    if in_word {
                        push_word(&mut stages, std::mem::take(&mut word))?;
                        in_word = false;
                    }
                    1
                };
                if c == '<' {
                    return unsupported("<");
                }
                if chars.peek() == Some(&'>') {
                    return unsupported(">>");
                }
                let target = redirect_target(&mut chars);
                let s = stages.last_mut().ok_or("bash: internal error")?;
                match (fd, target.as_str()) {
                    (2, "&1") => s.err_to_out = true,
                    (2, "/dev/null") => s.drop_err = true,
                    (1, "/dev/null") => s.drop_out = true,
                    (_, "") => return Err("bash: syntax error near unexpected token `newline'".into()),
                    _ => return unsupported(">"),
                }
            }
            '`' => return unsupported("`"),
            '$' if chars.peek() == Some(&'(') => return unsupported("$("),
            ch => {
                in_word = true;
                word.push(ch);
            }
        }
    }
    if in_word {
        push_word(&mut stages, word)?;
    }
    if stages.len() == 1 && stages[0].words.is_empty() {
        return Ok(Vec::new());
    }
    if stages.last().is_some_and(|s| s.words.is_empty()) {
        // `cmd |` asks bash for more input; here there is none.
        return Err("bash: syntax error: unexpected end of file".into());
    }
    Ok(stages)
}

fn push_word(stages: &mut [Stage], word: String) -> Result<(), String> {
    let s = stages.last_mut().ok_or("bash: internal error")?;
    if s.words.len() >= 256 {
        return Err("bash: too many arguments for this terminal".into());
    }
    s.words.push(word);
    Ok(())
}

/// The word after a redirection operator (blanks skipped).
fn redirect_target(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
        chars.next();
    }
    let mut t = String::new();
    while let Some(&c) = chars.peek() {
        if c == ' ' || c == '\t' || c == '|' || c == ';' {
            break;
        }
        t.push(c);
        chars.next();
    }
    t
}

fn run_pipeline(sim: &mut Simulation, stages: Vec<Stage>, cols: usize) -> Output {
    let mut text = String::new();
    let mut stdin: Option<String> = None;
    let mut status = 0;
    let mut clear = false;
    let last = stages.len() - 1;
    for (i, stage) in stages.into_iter().enumerate() {
        let piped = i < last || stage.drop_out;
        let mut ctx = Ctx { sim: &mut *sim, user: User::Root, piped, cols };
        let res = dispatch(&mut ctx, &stage.words, stdin.take());
        status = res.status;
        clear |= res.clear;
        let mut next = String::new();
        for (stream, s) in res.chunks {
            let stream = if stream == Stream::Err && stage.err_to_out { Stream::Out } else { stream };
            match stream {
                Stream::Err if stage.drop_err => {}
                Stream::Err => text.push_str(&s),
                Stream::Out if stage.drop_out => {}
                Stream::Out if i < last => next.push_str(&s),
                Stream::Out => text.push_str(&s),
            }
        }
        if i < last {
            stdin = Some(next);
        }
    }
    Output { text, status, clear }
}

fn dispatch(ctx: &mut Ctx<'_>, words: &[String], stdin: Option<String>) -> Res {
    let Some(cmd) = words.first() else { return Res::ok() };
    let args = &words[1..];
    match cmd.as_str() {
        "help" => Res::with(help(flavor(ctx)), String::new(), 0),
        "clear" => Res { clear: true, ..Res::ok() },
        "sudo" => sudo(ctx, args, stdin),
        "curl" => curl::run(ctx, args),
        "systemctl" => systemd::systemctl(ctx, args),
        "service" => systemd::service(ctx, args),
        "nginx" | "/usr/sbin/nginx" => proxytools::nginx(ctx, args),
        "haproxy" | "/usr/sbin/haproxy" => proxytools::haproxy(ctx, args),
        "caddy" | "/usr/bin/caddy" => proxytools::caddy(ctx, args),
        "varnishlog" | "varnishncsa" | "varnishd" | "/usr/sbin/varnishd" | "/usr/bin/varnishlog" | "/usr/bin/varnishncsa" => {
            proxytools::varnish(ctx, cmd.rsplit('/').next().unwrap_or(cmd), args)
        }
        "apachectl" | "apache2ctl" | "apache2" | "/usr/sbin/apachectl" | "/usr/sbin/apache2ctl" | "/usr/sbin/apache2" => {
            proxytools::apachectl(ctx, cmd.rsplit('/').next().unwrap_or(cmd), args)
        }
        "journalctl" => systemd::journalctl(ctx, args),
        "ss" => ss::run(ctx, args),
        "docker" => docker::run(ctx, args),
        "cat" => files::cat(ctx, args, stdin),
        "tail" => files::tail(ctx, args, stdin),
        "head" => files::head(ctx, args, stdin),
        "ls" => files::ls(ctx, args),
        "ps" => ps::ps(ctx, args),
        "grep" => filters::grep(ctx, args, stdin),
        "wc" => filters::wc(ctx, args, stdin),
        "date" => date(ctx, args),
        "hostname" => Res::with(format!("{}\n", host::HOSTNAME), String::new(), 0),
        "whoami" => Res::with(format!("{}\n", user_name(ctx.user)), String::new(), 0),
        "echo" => Res::with(format!("{}\n", args.join(" ")), String::new(), 0),
        "getenforce" => selinux::getenforce(ctx, args),
        "getsebool" => selinux::getsebool(ctx, args),
        "ausearch" => selinux::ausearch(ctx, args),
        "ulimit" => ulimit(args),
        _ => not_found(cmd, flavor(ctx)),
    }
}

fn flavor(ctx: &Ctx<'_>) -> Flavor {
    ctx.sim.world().scenario.proxy.flavor
}

/// The commands `help` lists (what an unknown one is compared with).
const COMMANDS: [&str; 26] = [
    "curl", "systemctl", "service", "journalctl", "nginx", "haproxy", "ss", "docker", "cat", "tail", "head", "ls", "ps", "sudo", "grep", "wc",
    "date", "hostname", "whoami", "echo", "clear", "help", "getenforce", "getsebool", "ausearch", "ulimit",
];

/// `ulimit -n`: the open-files limit a root shell on Debian 12 has (soft
/// 1024, hard 524288: systemd's defaults, which nginx.service inherits too);
/// nginx's worker_connections needs as many file descriptors.
fn ulimit(args: &[String]) -> Res {
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["-n"] | ["-Sn"] => Res::with("1024\n".into(), String::new(), 0),
        ["-Hn"] => Res::with("524288\n".into(), String::new(), 0),
        _ => Res::with(String::new(), "ulimit: only -n, -Sn and -Hn (open files) are simulated\n".into(), 2),
    }
}

/// bash's answer to an unknown command, then what this terminal offers:
/// the closest supported command if one is an obvious slip, and `help`.
fn not_found(cmd: &str, flavor: Flavor) -> Res {
    let mut err = format!("bash: {cmd}: command not found\n");
    if let Some(hint) = closest(cmd, flavor) {
        err.push_str(&format!("Did you mean {hint}? "));
    }
    err.push_str("Type help for the commands this terminal simulates.\n");
    Res::with(String::new(), err, 127)
}

/// The supported command an unknown `cmd` most likely meant: a known
/// alias (`netstat` → `ss`), or one within a small edit distance.
fn closest(cmd: &str, flavor: Flavor) -> Option<String> {
    let alias = match cmd {
        "netstat" | "lsof" => Some("ss -tlnp"),
        "less" | "more" | "vi" | "vim" | "nano" => Some("cat (or tail -n 20) FILE"),
        "wget" | "http" => Some("curl"),
        "dmesg" => Some("journalctl -k"),
        "top" | "htop" | "pgrep" => Some("ps aux / systemctl status app"),
        "kill" | "pkill" | "killall" => Some("systemctl stop|restart UNIT"),
        "apachectl" | "httpd" | "apache2" | "caddy" | "envoy" | "traefik" => None,
        _ => None,
    };
    if let Some(a) = alias {
        return Some(a.to_string());
    }
    if cmd.is_empty() || cmd.len() > 32 {
        return None;
    }
    // Only the proxy the scenario runs is installed.
    let other = if flavor == Flavor::Nginx { "haproxy" } else { "nginx" };
    COMMANDS
        .iter()
        .filter(|c| **c != other)
        .map(|c| (edit_distance(cmd, c), *c))
        .filter(|(d, c)| *d <= if c.len() <= 3 { 1 } else { 2 })
        .min()
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance, with a swap of two neighbours counting one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, v) in d[0].iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

fn user_name(u: User) -> &'static str {
    u.name()
}

/// `sudo [-u USER] COMMAND...`: root runs anything as anyone.
fn sudo(ctx: &mut Ctx<'_>, args: &[String], stdin: Option<String>) -> Res {
    let mut user = User::Root;
    let flavor = ctx.sim.world().scenario.proxy.flavor;
    let mut rest = args;
    loop {
        match rest.first().map(String::as_str) {
            Some("-u") => {
                let Some(name) = rest.get(1) else {
                    return Res::with(String::new(), "sudo: option requires an argument -- 'u'\nusage: sudo -h | -K | -k | -V\n".into(), 1);
                };
                match User::parse(name, flavor) {
                    Some(u) => user = u,
                    None => return Res::with(String::new(), format!("sudo: unknown user {name}\nsudo: error initializing audit plugin sudoers_audit\n"), 1),
                }
                rest = &rest[2..];
            }
            Some(a) if a.starts_with("-u") && a.len() > 2 => {
                match User::parse(&a[2..], flavor) {
                    Some(u) => user = u,
                    None => return Res::with(String::new(), format!("sudo: unknown user {}\nsudo: error initializing audit plugin sudoers_audit\n", &a[2..]), 1),
                }
                rest = &rest[1..];
            }
            Some("--") => {
                rest = &rest[1..];
                break;
            }
            Some(a) if a.starts_with('-') => {
                return Res::with(String::new(), format!("sudo: option {a} is not simulated here (use sudo -u USER COMMAND)\n"), 1);
            }
            _ => break,
        }
    }
    if rest.is_empty() {
        return Res::with(String::new(), "usage: sudo -h | -K | -k | -V\nusage: sudo -v [-ABknS] [-g group] [-h host] [-p prompt] [-u user]\n".into(), 1);
    }
    let previous = ctx.user;
    ctx.user = user;
    let r = dispatch(ctx, rest, stdin);
    ctx.user = previous;
    r
}

fn date(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    if let Some(a) = args.first() {
        return Res::with(String::new(), format!("date: extra operand '{a}'\nTry 'date --help' for more information.\n"), 1);
    }
    let w = ctx.sim.world();
    Res::with(format!("{}\n", w.clock.date(w.now)), String::new(), 0)
}

/// `help`: the commands this terminal simulates, in the words of the proxy
/// the scenario runs (the other one is not installed on web1).
pub fn help(flavor: Flavor) -> String {
    const HEAD: &str = "Commands run on web1, the proxy host, against the simulated world:
  curl [-v] [-s] [-i] [-m SECS] [-H 'Host: x'] [--unix-socket PATH] URL
                                   a request through the proxy (http://localhost/...)
                                   or straight to an app (http://127.0.0.1:3000/...)
";
    let rest = match flavor {
        Flavor::Nginx => "  systemctl status app|nginx       the service, its process, its last log lines
  systemctl is-active UNIT
  systemctl start|stop|restart|reload UNIT   act on it (service UNIT start: the same)
  journalctl -u app|nginx [-n N]   the unit's journal (-k: the kernel's)
  nginx -t, nginx -s reload        test nginx's configuration; re-read it
  ss -tlnp                         TCP sockets that listen, and who holds them
  ss -xlp                          unix sockets that listen
  docker ps [-a]                   the app's container
  docker inspect NAME              its state (Running, OOMKilled, ExitCode...)
  docker logs [--tail N] NAME      what the app printed
  tail [-n N] FILE, head, cat      /var/log/nginx/error.log, access.log,
                                   the proxy's configuration (/etc/nginx/conf.d)
  ls -la PATH                      e.g. the app's unix socket
  ps aux                           the processes (grep the server: ps aux | grep gunicorn)
  sudo -u www-data COMMAND         run as nginx's worker user
  grep [-i] [-v] [-c] [-E] PATTERN, head -n N, tail -n N, wc -l   after a |
  date, hostname, whoami, echo, clear, help
  getenforce, getsebool BOOLEAN, ausearch -m avc   SELinux's mode, a boolean, its denials
  ulimit -n                        open files allowed (each connection is one)
The commands only look, except curl (its requests are real: one can crash the app,
and virtual time passes while it waits), systemctl start|stop|restart|reload and
nginx -s reload, which change the run as they would the host.
",
        Flavor::Varnish => "  systemctl status app|varnish     the service, its process, its last log lines
  systemctl is-active UNIT
  systemctl start|stop|restart UNIT   act on it (service UNIT start: the same)
  journalctl -u app|varnish [-n N] the unit's journal (varnishd's own messages)
  varnishlog -d                    the backend transactions (FetchError says why)
  varnishncsa -d                   the access log, one line per request
  varnishd -C -f /etc/varnish/default.vcl   compile the VCL
  ss -tlnp                         TCP sockets that listen, and who holds them
  docker ps [-a]                   the app's container
  docker inspect NAME              its state (Running, OOMKilled, ExitCode...)
  docker logs [--tail N] NAME      what the app printed
  cat /etc/varnish/default.vcl     the VCL
  grep [-i] [-v] [-c] [-E] PATTERN, head -n N, tail -n N, wc -l   after a |
  date, hostname, whoami, echo, clear, help
The commands only look, except curl (its requests are real: one can crash the app,
and virtual time passes while it waits) and systemctl start|stop|restart,
which change the run as they would the host.
",
        Flavor::Caddy => "  systemctl status app|caddy       the service, its process, its last log lines
  systemctl is-active UNIT
  systemctl start|stop|restart|reload UNIT   act on it (service UNIT start: the same)
  journalctl -u app|caddy [-n N]   the unit's journal: Caddy's error lines (JSON) go there
  caddy validate --config /etc/caddy/Caddyfile   test Caddy's configuration
  ss -tlnp                         TCP sockets that listen, and who holds them
  ss -xlp                          unix sockets that listen
  docker ps [-a]                   the app's container
  docker inspect NAME              its state (Running, OOMKilled, ExitCode...)
  docker logs [--tail N] NAME      what the app printed
  tail [-n N] FILE, head, cat      /var/log/caddy/access.log, /etc/caddy/Caddyfile
  ls -la PATH                      e.g. the app's unix socket
  grep [-i] [-v] [-c] [-E] PATTERN, head -n N, tail -n N, wc -l   after a |
  date, hostname, whoami, echo, clear, help
  getenforce, getsebool BOOLEAN, ausearch -m avc   SELinux's mode, a boolean, its denials
  ulimit -n                        open files allowed (each connection is one)
The commands only look, except curl (its requests are real: one can crash the app,
and virtual time passes while it waits) and systemctl start|stop|restart|reload,
which change the run as they would the host.
",
        Flavor::Apache => "  systemctl status app|apache2     the service, its process, its last log lines
  systemctl is-active UNIT
  systemctl start|stop|restart|reload UNIT   act on it (service UNIT start: the same)
  journalctl -u app|apache2 [-n N] the unit's journal (-k: the kernel's)
  apachectl -t (apache2ctl -t)     test Apache's configuration
  ss -tlnp                         TCP sockets that listen, and who holds them
  ss -xlp                          unix sockets that listen
  docker ps [-a]                   the app's container
  docker inspect NAME              its state (Running, OOMKilled, ExitCode...)
  docker logs [--tail N] NAME      what the app printed
  tail [-n N] FILE, head, cat      /var/log/apache2/error.log, access.log,
                                   the site (/etc/apache2/sites-available)
  ls -la PATH                      e.g. the app's unix socket
  sudo -u www-data COMMAND         run as Apache's worker user
  grep [-i] [-v] [-c] [-E] PATTERN, head -n N, tail -n N, wc -l   after a |
  date, hostname, whoami, echo, clear, help
  getenforce, getsebool BOOLEAN, ausearch -m avc   SELinux's mode, a boolean, its denials
  ulimit -n                        open files allowed (each connection is one)
The commands only look, except curl (its requests are real: one can crash the app,
and virtual time passes while it waits) and systemctl start|stop|restart|reload,
which change the run as they would the host.
",
        Flavor::Haproxy => "  systemctl status app|haproxy     the service, its process, its last log lines
  systemctl is-active UNIT
  systemctl start|stop|restart|reload UNIT   act on it (service UNIT start: the same)
  journalctl -u app|haproxy [-n N] the unit's journal (-k: the kernel's)
  haproxy -c -f /etc/haproxy/haproxy.cfg   test HAProxy's configuration
  ss -tlnp                         TCP sockets that listen, and who holds them
  ss -xlp                          unix sockets that listen
  docker ps [-a]                   the app's container
  docker inspect NAME              its state (Running, OOMKilled, ExitCode...)
  docker logs [--tail N] NAME      what the app printed
  tail [-n N] FILE, head, cat      /etc/haproxy/haproxy.cfg (HAProxy logs to the
                                   journal: journalctl -u haproxy)
  ls -la PATH                      e.g. the app's unix socket
  sudo -u haproxy COMMAND          run as HAProxy's user
  grep [-i] [-v] [-c] [-E] PATTERN, head -n N, tail -n N, wc -l   after a |
  date, hostname, whoami, echo, clear, help
The commands only look, except curl (its requests are real: one can crash the app,
and virtual time passes while it waits), systemctl start|stop|restart|reload,
which change the run as they would the host.
",
        Flavor::Envoy => "  systemctl status app|envoy       the service, its process, its last log lines
  systemctl is-active UNIT
  systemctl start|stop|restart UNIT   act on it (service UNIT start: the same)
  journalctl -u app|envoy [-n N]   the unit's journal
  curl -s localhost:9901/clusters  Envoy's admin interface: each host's counters
  curl -s localhost:9901/stats     Envoy's counters (| grep upstream_cx, upstream_rq)
  ss -tlnp                         TCP sockets that listen, and who holds them
  docker ps [-a]                   the app's container
  docker inspect NAME              its state (Running, OOMKilled, ExitCode...)
  docker logs [--tail N] NAME      what the app printed
  tail [-n N] FILE, head, cat      /var/log/envoy/access.log, /etc/envoy/envoy.yaml
  grep [-i] [-v] [-c] [-E] PATTERN, head -n N, tail -n N, wc -l   after a |
  date, hostname, whoami, echo, clear, help
Envoy is documented, not verified: modelled from its docs and source, never run here.
The commands only look, except curl (its requests are real: one can crash the app,
and virtual time passes while it waits) and systemctl start|stop|restart,
which change the run as they would the host.
",
        Flavor::Alb => "  (the AWS ALB is a managed service: it is not on this host; its access log,
   copied from S3, is /var/log/alb/access.log and its settings /root/alb.sh)
  aws elbv2 describe-target-health the targets the load balancer sends to
  systemctl status app             the app's service, its process, its last log lines
  systemctl start|stop|restart app act on it (service app start: the same)
  journalctl -u app [-n N]         the app's journal
  ss -tlnp                         TCP sockets that listen, and who holds them
  docker ps [-a]                   the app's container
  docker inspect NAME              its state (Running, OOMKilled, ExitCode...)
  docker logs [--tail N] NAME      what the app printed
  tail [-n N] FILE, head, cat      /var/log/alb/access.log, /root/alb.sh
  grep [-i] [-v] [-c] [-E] PATTERN, head -n N, tail -n N, wc -l   after a |
  date, hostname, whoami, echo, clear, help
The ALB is documented, not verified: modelled from AWS's documentation, never run here.
The commands only look, except curl (its requests are real: one can crash the app,
and virtual time passes while it waits) and systemctl start|stop|restart,
which change the run as they would the host.
",
    };
    format!("{HEAD}{rest}")
}

/// Commands worth trying on the scenario `sc` (the terminal's suggestion
/// buttons), in the words of the proxy it runs.
pub fn suggestions(sc: &crate::sim::Scenario) -> Vec<String> {
    use crate::sim::net::Address;
    let app = sc.apps.first().map(|a| a.name.clone()).unwrap_or_else(|| "app".into());
    let port = sc.proxy.listen;
    let path = &sc.clients.path;
    let proxy_url = if port == 80 { format!("http://localhost{path}") } else { format!("http://localhost:{port}{path}") };
    let mut v = vec![format!("systemctl status {app}"), "ss -tlnp".to_string(), format!("curl -v {proxy_url}")];
    let server = sc.apps.first().map(|a| a.server).unwrap_or_default();
    if server != crate::sim::server::ServerKind::Node {
        v.push(format!("ps aux | grep {}", server.as_str()));
    }
    // curl speaks HTTP: not to PHP-FPM's FastCGI nor uWSGI's uwsgi socket.
    let http = server.protocol() == crate::sim::server::Protocol::Http;
    match sc.apps.first().and_then(|a| Address::parse(&a.listen).ok()) {
        Some(Address::Tcp { .. }) if !http => {}
        Some(Address::Unix { path: sock }) if !http => v.push(format!("ls -la {sock}")),
        Some(Address::Tcp { host, port }) => {
            let host = if host == "0.0.0.0" || host == "localhost" { "127.0.0.1".to_string() } else { host };
            v.push(format!("curl -v http://{host}:{port}{path}"));
        }
        Some(Address::Unix { path: sock }) => {
            v.push(format!("curl -v --unix-socket {sock} http://localhost{path}"));
            v.push(format!("ls -la {sock}"));
        }
        None => {}
    }
    // A socket the proxy is pointed at (and maybe not the app).
    for s in &sc.upstream.servers {
        if let Ok(Address::Unix { path }) = Address::parse(&s.address) {
            let cmd = format!("ls -la {path}");
            if !v.contains(&cmd) {
                v.push(cmd);
            }
        }
    }
    v.push(match sc.proxy.flavor {
        Flavor::Nginx => "tail -n 5 /var/log/nginx/error.log".to_string(),
        Flavor::Haproxy => "journalctl -u haproxy -n 5".to_string(),
        Flavor::Apache => "tail -n 5 /var/log/apache2/error.log".to_string(),
        Flavor::Caddy => "journalctl -u caddy -n 5".to_string(),
        Flavor::Varnish => "varnishlog -d".to_string(),
        Flavor::Envoy => "tail -n 5 /var/log/envoy/access.log".to_string(),
        Flavor::Alb => "tail -n 5 /var/log/alb/access.log".to_string(),
    });
    v.push(format!("journalctl -u {app} -n 10"));
    v.push(format!("docker inspect {app} | grep -i oom"));
    v.push("help".to_string());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Vec<String>> {
        parse(line).unwrap().into_iter().map(|s| s.words).collect()
    }

    #[test]
    fn splits_words_quotes_and_pipes() {
        assert_eq!(words("curl -v  http://localhost/users"), vec![vec!["curl", "-v", "http://localhost/users"]]);
        assert_eq!(words("curl -H 'Host: a b' x"), vec![vec!["curl", "-H", "Host: a b", "x"]]);
        assert_eq!(words(r#"grep "a \"b\" \$c" f"#), vec![vec!["grep", "a \"b\" $c", "f"]]);
        assert_eq!(words(r"echo a\ b"), vec![vec!["echo", "a b"]]);
        assert_eq!(words("docker inspect app | grep -i oom"), vec![vec!["docker", "inspect", "app"], vec!["grep", "-i", "oom"]]);
        assert_eq!(words("a|b|c"), vec![vec!["a"], vec!["b"], vec!["c"]]);
        assert_eq!(words("   "), Vec::<Vec<String>>::new());
        assert_eq!(words("ls # a comment"), vec![vec!["ls"]]);
        assert_eq!(words("echo ''"), vec![vec!["echo", ""]]);
    }

    #[test]
    fn reads_the_redirections_it_supports() {
        let s = parse("curl -v x 2>&1 | grep HTTP").unwrap();
        assert!(s[0].err_to_out && !s[0].drop_err);
        let s = parse("curl x 2>/dev/null").unwrap();
        assert!(s[0].drop_err);
        let s = parse("curl x >/dev/null").unwrap();
        assert!(s[0].drop_out);
        let s = parse("curl x &> /dev/null").unwrap();
        assert!(s[0].drop_out && s[0].drop_err);
    }

    #[test]
    fn refuses_what_bash_refuses_and_what_is_not_simulated() {
        assert_eq!(parse("| grep x").unwrap_err(), "bash: syntax error near unexpected token `|'");
        assert_eq!(parse("ls || x").unwrap_err().split(':').nth(1), Some(" ||"));
        assert!(parse("echo 'x").unwrap_err().contains("unexpected EOF"));
        assert!(parse("echo \"x").unwrap_err().contains("unexpected EOF"));
        assert!(parse("ls |").unwrap_err().contains("unexpected end of file"));
        assert!(parse("ls; ls").is_err());
        assert!(parse("ls > out.txt").is_err());
        assert!(parse("echo $(id)").is_err());
        assert!(parse(&"x".repeat(MAX_LINE + 1)).is_err());
    }
}
