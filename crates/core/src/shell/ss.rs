//! `ss` (iproute2 6.1): the sockets that listen on web1. sshd on :22 and
//! dockerd's /run/docker.sock are always there; the proxy listens on
//! `0.0.0.0:<listen>` while it runs; each app listens on its own address
//! (TCP or a unix socket) while its process runs and has finished booting.
//! The columns are laid out the way ss lays them out: measured, and on a
//! terminal widened to its width; compact when piped.

use crate::sim::net::Address;
use crate::sim::scenario::Flavor;

use super::host::{self, DOCKERD_PID, SSHD_PID};
use super::{Ctx, Res};

#[derive(Default)]
struct Opts {
    tcp: bool,
    udp: bool,
    unix: bool,
    listening: bool,
    all: bool,
    numeric: bool,
    processes: bool,
    no_header: bool,
    ipv4: bool,
    ipv6: bool,
}

struct Row {
    netid: &'static str,
    state: &'static str,
    recv_q: u32,
    send_q: u32,
    local: String,
    local_port: String,
    peer: String,
    peer_port: String,
    users: String,
}

pub(super) fn run(ctx: &mut Ctx<'_>, args: &[String]) -> Res {
    let mut o = Opts::default();
    for a in args {
        if let Some(long) = a.strip_prefix("--") {
            match long {
                "tcp" => o.tcp = true,
                "udp" => o.udp = true,
                "unix" => o.unix = true,
                "listening" => o.listening = true,
                "all" => o.all = true,
                "numeric" => o.numeric = true,
                "processes" => o.processes = true,
                "no-header" => o.no_header = true,
                "ipv4" => o.ipv4 = true,
                "ipv6" => o.ipv6 = true,
                _ => return usage(&format!("ss: unrecognized option '{a}'\n")),
            }
            continue;
        }
        let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Res::with(String::new(), format!("ss: filters such as \"{a}\" are not simulated here; pipe into grep instead\n"), 1);
        };
        for c in flags.chars() {
            match c {
                't' => o.tcp = true,
                'u' => o.udp = true,
                'x' => o.unix = true,
                'l' => o.listening = true,
                'a' => o.all = true,
                'n' => o.numeric = true,
                'p' => o.processes = true,
                'H' => o.no_header = true,
                '4' => o.ipv4 = true,
                '6' => o.ipv6 = true,
                'r' | 'e' | 'm' | 'i' | 'o' => {
                    return Res::with(String::new(), format!("ss: option -{c} is not simulated here (try ss -tlnp)\n"), 1)
                }
                x => return usage(&format!("ss: invalid option -- '{x}'\n")),
            }
        }
    }
    if !(o.tcp || o.udp || o.unix) {
        // All socket tables: the ones the lab models are TCP and unix.
        o.tcp = true;
        o.unix = true;
    }
    let mut rows = Vec::new();
    // Without -l or -a ss shows connected sockets; the lab models no
    // established connections on the host's side, only listeners.
    let listeners = o.listening || o.all;
    if listeners && o.unix && !o.ipv4 && !o.ipv6 {
        rows.extend(unix_rows(ctx));
    }
    if listeners && o.tcp {
        rows.extend(tcp_rows(ctx, &o));
    }
    let tables = [o.tcp, o.udp, o.unix].iter().filter(|x| **x).count() + if o.unix { 2 } else { 0 };
    let show_netid = tables > 1;
    // -l shows LISTEN and UNCONN: two states, so the State column stays.
    let show_state = true;
    let mut table = Table::new(show_netid, show_state);
    if !o.no_header {
        table.header();
    }
    for r in &rows {
        let users = if o.processes && !r.users.is_empty() { format!(" users:({})", r.users) } else { String::new() };
        table.row([
            r.netid.to_string(),
            r.state.to_string(),
            format!("{:<6}", r.recv_q),
            format!("{:<6}", r.send_q),
            r.local.clone(),
            r.local_port.clone(),
            r.peer.clone(),
            r.peer_port.clone(),
            users,
            String::new(),
        ]);
    }
    let screen = if ctx.piped { None } else { Some(ctx.cols) };
    Res::with(table.render(screen), String::new(), 0)
}

fn usage(msg: &str) -> Res {
    Res::with(String::new(), format!("{msg}Usage: ss [ OPTIONS ]\n       ss [ OPTIONS ] [ FILTER ]\n"), 1)
}

fn tcp_rows(ctx: &Ctx<'_>, o: &Opts) -> Vec<Row> {
    let w = ctx.sim.world();
    let mut v4: Vec<(u16, Row)> = Vec::new();
    let mut v6: Vec<(u16, Row)> = Vec::new();
    let listen = |addr: &str, port: u16, users: String, v6: bool| Row {
        netid: "tcp",
        state: "LISTEN",
        recv_q: 0,
        send_q: if users.contains("sshd") { 128 } else { 511 },
        local: format!("{addr}:"),
        local_port: service_name(port, o.numeric),
        peer: if v6 { "[::]:".into() } else { "0.0.0.0:".into() },
        peer_port: "*".into(),
        users,
    };
    v4.push((22, listen("0.0.0.0", 22, format!("(\"sshd\",pid={SSHD_PID},fd=3)"), false)));
    v6.push((22, listen("[::]", 22, format!("(\"sshd\",pid={SSHD_PID},fd=4)"), true)));
    let p = host::proxy(w);
    if p.running {
        let users = match p.flavor {
            // /proc is scanned by pid; each entry is prepended: the worker first.
            Flavor::Nginx => format!("(\"nginx\",pid={},fd=6),(\"nginx\",pid={},fd=6)", p.worker_pid, p.master_pid),
            Flavor::Haproxy => format!("(\"haproxy\",pid={},fd=7)", p.worker_pid),
            Flavor::Varnish => format!("(\"cache-main\",pid={},fd=7),(\"varnishd\",pid={},fd=7)", p.worker_pid, p.master_pid),
            Flavor::Caddy => format!("(\"caddy\",pid={},fd=3)", p.worker_pid),
            Flavor::Apache => format!("(\"apache2\",pid={},fd=4),(\"apache2\",pid={},fd=4)", p.worker_pid, p.master_pid),
            Flavor::Envoy => format!("(\"envoy\",pid={},fd=20)", p.worker_pid),
            // The ALB listens on AWS's side, not on this host.
            Flavor::Alb => String::new(),
        };
        if p.flavor != Flavor::Alb {
            v4.push((p.port, listen("0.0.0.0", p.port, users, false)));
        }
    }
    for app in host::apps(w) {
        if !app.listening() {
            continue;
        }
        if let Some(Address::Tcp { host: h, port }) = &app.listen {
            let users = format!("(\"node\",pid={},fd=18)", app.pid);
            if h.contains(':') {
                // An IPv6 address: `[::1]:5000` in the IPv6 table.
                v6.push((*port, listen(&format!("[{h}]"), *port, users, true)));
            } else {
                let addr = if h == "localhost" { "127.0.0.1" } else { h.as_str() };
                v4.push((*port, listen(addr, *port, users, false)));
            }
        }
    }
    v4.sort_by_key(|r| r.0);
    v6.sort_by_key(|r| r.0);
    let mut rows = Vec::new();
    if !o.ipv6 || o.ipv4 {
        rows.extend(v4.into_iter().map(|r| r.1));
    }
    if !o.ipv4 || o.ipv6 {
        rows.extend(v6.into_iter().map(|r| r.1));
    }
    rows
}

/// Without -n ss names well-known ports as /etc/services does.
fn service_name(port: u16, numeric: bool) -> String {
    match (numeric, port) {
        (false, 22) => "ssh".into(),
        (false, 80) => "http".into(),
        (false, 443) => "https".into(),
        (false, 8080) => "http-alt".into(),
        _ => port.to_string(),
    }
}

fn unix_rows(ctx: &Ctx<'_>) -> Vec<Row> {
    let w = ctx.sim.world();
    let row = |path: &str, inode: u32, send_q: u32, users: String| Row {
        netid: "u_str",
        state: "LISTEN",
        recv_q: 0,
        send_q,
        local: format!("{path} "),
        local_port: inode.to_string(),
        peer: "* ".into(),
        peer_port: "0".into(),
        users,
    };
    let mut rows = vec![row("/run/docker.sock", 18_421, 4096, format!("(\"dockerd\",pid={DOCKERD_PID},fd=4),(\"systemd\",pid=1,fd=48)"))];
    for app in host::apps(w) {
        if !app.listening() {
            continue;
        }
        if let Some(Address::Unix { path }) = &app.listen {
            rows.push(row(path, 31_337 + app.index as u32 * 7 + app.restarts, 511, format!("(\"node\",pid={},fd=18)", app.pid)));
        }
    }
    rows
}

/// ss's column renderer (misc/ss.c: `render_calc_width`, `render`):
/// Netid, State, Recv-Q, Send-Q, Local Address:, Port, Peer Address:, Port,
/// Process and a trailing empty column. Each column is as wide as its
/// widest field plus its left delimiter; on a terminal the spare width is
/// spread over the columns of the first line.
struct Table {
    disabled: [bool; COLS],
    rows: Vec<[String; COLS]>,
}

const COLS: usize = 10;
/// (header, right-aligned, left delimiter)
const COLUMNS: [(&str, bool, &str); COLS] = [
    ("Netid", false, ""),
    ("State", false, " "),
    ("Recv-Q", false, " "),
    ("Send-Q", false, " "),
    ("Local Address:", true, " "),
    ("Port", false, ""),
    ("Peer Address:", true, " "),
    ("Port", false, ""),
    ("Process", false, ""),
    ("", false, ""),
];

impl Table {
    fn new(netid: bool, state: bool) -> Table {
        let mut disabled = [false; COLS];
        disabled[0] = !netid;
        disabled[1] = !state;
        Table { disabled, rows: Vec::new() }
    }

    fn header(&mut self) {
        let mut r: [String; COLS] = Default::default();
        for (i, c) in COLUMNS.iter().enumerate().take(COLS - 1) {
            r[i] = c.0.to_string();
        }
        self.rows.push(r);
    }

    fn row(&mut self, r: [String; COLS]) {
        self.rows.push(r);
    }

    fn render(&self, screen: Option<usize>) -> String {
        let len = |s: &str| s.chars().count();
        let mut width = [0usize; COLS];
        let mut first = true;
        for i in 0..COLS {
            if self.disabled[i] {
                continue;
            }
            let max_len = self.rows.iter().map(|r| len(&r[i])).max().unwrap_or(0);
            width[i] = if !first && max_len > 0 { max_len + COLUMNS[i].2.len() } else { max_len };
            if let Some(s) = screen {
                width[i] = width[i].min(s);
            }
            if width[i] > 0 {
                first = false;
            }
        }
        if let Some(screen) = screen {
            // Second pass: break lines and spread the remaining space.
            let (mut total, mut linecols, mut eol): (usize, usize, isize) = (0, 0, -1);
            let mut c = 0isize;
            while (c as usize) < COLS {
                let ci = c as usize;
                if width[ci] == 0 {
                    c += 1;
                    continue;
                }
                linecols += 1;
                total += width[ci];
                let last = !(ci + 1..COLS).any(|t| width[t] > 0);
                if !last && total < screen {
                    c += 1;
                    continue;
                }
                if total != screen {
                    if total > screen {
                        total -= width[ci];
                        c -= 1;
                        linecols -= 1;
                    }
                    let pad = screen.saturating_sub(total);
                    let spacing = if linecols > 0 { pad / linecols } else { 0 };
                    let mut rem = if linecols > 0 { pad % linecols } else { 0 };
                    let mut t = c;
                    while t > eol {
                        let ti = t as usize;
                        if width[ti] > 0 {
                            width[ti] += spacing;
                            if rem > 0 {
                                width[ti] += 1;
                                rem -= 1;
                            }
                        }
                        t -= 1;
                    }
                }
                eol = c;
                total = 0;
                linecols = 0;
                c += 1;
            }
        }
        let mut out = String::new();
        for r in &self.rows {
            let mut line = String::new();
            let mut started = false;
            for i in 0..COLS {
                if self.disabled[i] {
                    continue;
                }
                let (_, right, ldelim) = COLUMNS[i];
                let mut printed = 0;
                if started {
                    line.push_str(ldelim);
                    printed = ldelim.len();
                }
                started = true;
                let field = &r[i];
                if width[i] > 0 && right {
                    let s = width[i].saturating_sub(len(field) + printed);
                    line.push_str(&" ".repeat(s));
                    printed += s;
                }
                line.push_str(field);
                printed += len(field);
                if width[i] > 0 && !right {
                    line.push_str(&" ".repeat(width[i].saturating_sub(printed)));
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(false, true);
        t.header();
        t.row([
            "tcp".into(),
            "LISTEN".into(),
            "0     ".into(),
            "511   ".into(),
            "0.0.0.0:".into(),
            "80".into(),
            "0.0.0.0:".into(),
            "*".into(),
            " users:((\"nginx\",pid=4453,fd=6),(\"nginx\",pid=4452,fd=6))".into(),
            String::new(),
        ]);
        t.row([
            "tcp".into(),
            "LISTEN".into(),
            "0     ".into(),
            "511   ".into(),
            "127.0.0.1:".into(),
            "3000".into(),
            "0.0.0.0:".into(),
            "*".into(),
            " users:((\"node\",pid=2817,fd=18))".into(),
            String::new(),
        ]);
        t
    }

    #[test]
    fn compact_layout_matches_iproute2_when_piped() {
        let text = sample().render(None);
        // ss pads the Process column to its width: trailing blanks.
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(lines[0], "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess");
        assert_eq!(lines[1], "LISTEN 0      511          0.0.0.0:80        0.0.0.0:*    users:((\"nginx\",pid=4453,fd=6),(\"nginx\",pid=4452,fd=6))");
        assert_eq!(lines[2], "LISTEN 0      511        127.0.0.1:3000      0.0.0.0:*    users:((\"node\",pid=2817,fd=18))");
    }

    #[test]
    fn terminal_layout_fills_the_screen_width() {
        let text = sample().render(Some(80));
        let lines: Vec<&str> = text.lines().collect();
        // The first eight columns fill 80 columns; Process (padded to a
        // line of its own) goes past them.
        assert_eq!(lines[0].trim_end().len(), 80 + "Process".len());
        assert_eq!(lines[0].len(), 160);
        assert!(lines[1].starts_with("LISTEN"));
        let at = lines[1].find(" users:").unwrap();
        assert_eq!(at, 80);
        assert_eq!(lines[0].find("Process"), Some(80));
    }
}
