//! A template: one line the engine wrote, with its variable parts as slots,
//! and the matcher that lays a pasted line over it.
//!
//! Slots come from two places. *Markers* are values the candidate's
//! scenario put into the line (the client address, the host, a fault's
//! socket path): a marker slot carries the pasted text back into the
//! scenario. *Generic* slots are the parts every run varies (times, pids,
//! connection numbers, sizes, quoted strings such as a user agent): matched,
//! not carried over.
//!
//! A small hand-written matcher rather than the `regex` crate: the templates
//! are the engine's own lines, the slot classes are five character sets, and
//! the core ships in the page's wasm bundle, whose budget is tight (see
//! docs/DIAGNOSE.md for the size figures). Matching is a bounded
//! backtracking walk: `STEP_BUDGET` steps per template at most.

/// A value of the candidate's scenario that shows in its lines.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Marker {
    /// The value as it appears in the probe run (a number is its decimal).
    pub probe: String,
    pub class: Class,
    /// A number (pids, a fault's numeric knob): filled into JSON numbers.
    pub numeric: bool,
}

/// What text a slot accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    /// `[-+]?[0-9]+(.[0-9]+)*`.
    Num,
    /// Three letters: a month or a weekday (`Nov`, `Sun`).
    Name3,
    /// A double-quoted string, quotes included.
    Quoted,
    /// No white space, quotes or commas, and no `/` (host names).
    Token,
    /// `host:port`: a token ending in `:` and digits.
    Addr,
    /// Starts with `/`; no white space or quotes (paths, socket files).
    Path,
    /// Upper-case letters (an HTTP method).
    Upper,
    /// Anything but a double quote (a marker value with spaces).
    Text,
}

impl Class {
    fn allows(self, c: char) -> bool {
        match self {
            Class::Token | Class::Addr => !(c.is_whitespace() || c == '"' || c == ',' || c == '/'),
            Class::Path => !(c.is_whitespace() || c == '"'),
            Class::Upper => c.is_ascii_uppercase(),
            Class::Text => c != '"' && c != '\n',
            Class::Num | Class::Name3 | Class::Quoted => false,
        }
    }

    /// The class of a marker's value.
    pub fn of(value: &str) -> Class {
        if value.starts_with('/') {
            Class::Path
        } else if !value.is_empty() && value.bytes().all(|b| b.is_ascii_uppercase()) {
            Class::Upper
        } else if value.contains([' ', '\t', ',']) {
            Class::Text
        } else if value.contains('/') {
            Class::Path
        } else if is_addr(value) {
            Class::Addr
        } else {
            Class::Token
        }
    }
}

/// `host:port` (not `unix:`).
fn is_addr(v: &str) -> bool {
    v.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && h != "unix" && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// One part of a template.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Piece {
    Lit(String),
    /// A generic slot.
    Slot(Class),
    /// A marker slot: the marker's index in the catalog's marker table.
    Marker(usize, Class),
}

impl Piece {
    fn class(&self) -> Option<Class> {
        match self {
            Piece::Lit(_) => None,
            Piece::Slot(c) | Piece::Marker(_, c) => Some(*c),
        }
    }
}

/// The nginx request context keys (`ngx_http_log_error`, sim::log::ErrorContext):
/// `, client: ..., server: ..., request: "...", upstream: "...", host: "..."`
/// (and `referrer`, which the engine never writes but real lines carry).
pub const CONTEXT_KEYS: &[&str] = &["client", "server", "request", "upstream", "host", "referrer", "subrequest"];

/// Splits an nginx error.log line into its head (time, level, pid, message,
/// action) and its request context, `(key, value)` in order. Lines without
/// a `, client: ` have no context.
pub fn split_context(line: &str) -> (&str, Vec<(&str, &str)>) {
    // The context starts at the first ", <key>: " (client, normally; a
    // pasted line may have lost it).
    let start = CONTEXT_KEYS.iter().filter_map(|k| line.find(&format!(", {k}: "))).min();
    let Some(start) = start else {
        // A line cut right after `, client:`.
        let cut = CONTEXT_KEYS.iter().find_map(|k| line.strip_suffix(&format!(", {k}:")));
        return (cut.unwrap_or(line), Vec::new());
    };
    let head = &line[..start];
    let mut rest = &line[start..];
    let mut out = Vec::new();
    while let Some(after) = rest.strip_prefix(", ") {
        let Some(colon) = after.find(": ") else { break };
        let key = &after[..colon];
        if !CONTEXT_KEYS.contains(&key) {
            break;
        }
        let value_start = &after[colon + 2..];
        // The value runs to the next ", key: " with a known key.
        let mut end = value_start.len();
        let mut search = 0;
        while let Some(i) = value_start[search..].find(", ") {
            let at = search + i;
            let tail = &value_start[at + 2..];
            if CONTEXT_KEYS.iter().any(|k| tail.strip_prefix(k).is_some_and(|t| t.starts_with(": "))) {
                end = at;
                break;
            }
            search = at + 2;
        }
        out.push((key, &value_start[..end]));
        rest = &value_start[end..];
    }
    (head, out)
}

/// A line the engine wrote, as pieces: its head and its context values.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Template {
    pub head: Vec<Piece>,
    pub context: Vec<(String, Vec<Piece>)>,
    /// Index of the head's longest literal: every match must cover it.
    pub key: usize,
    /// Index of its first long literal (the message's start): a pasted
    /// line may start there or before, never after.
    pub first_long: usize,
    /// The head without its action clause (` while reading response header
    /// from upstream`): a line quoted without it fits this one, which says
    /// less (see `Hit::partial`).
    pub short: Option<Box<Template>>,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Replaces each occurrence of `m.probe` in the literals of `pieces` by a
/// marker slot, where it stands as a whole value (not inside a longer word
/// or number).
fn cut_marker(pieces: Vec<Piece>, idx: usize, m: &Marker) -> Vec<Piece> {
    let mut out = Vec::with_capacity(pieces.len());
    for p in pieces {
        let Piece::Lit(s) = p else {
            out.push(p);
            continue;
        };
        let mut last = 0;
        let mut from = 0;
        while let Some(i) = s[from..].find(&m.probe) {
            let at = from + i;
            let end = at + m.probe.len();
            let before = s[..at].chars().next_back();
            let after = s[end..].chars().next();
            let starts_word = m.probe.chars().next().is_some_and(is_word_char);
            let ends_word = m.probe.chars().next_back().is_some_and(is_word_char);
            let ok_before = !(starts_word && before.is_some_and(is_word_char))
                && !(m.numeric && before.is_some_and(|c| c == '.'));
            let ok_after = !(ends_word && after.is_some_and(is_word_char))
                && !(m.numeric && s[end..].starts_with(|c: char| c == '.') && s[end + 1..].starts_with(|c: char| c.is_ascii_digit()));
            // A path marker is a whole path: not the head of a longer one.
            let ok_path = m.class != Class::Path || !after.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.');
            if ok_before && ok_after && ok_path {
                if at > last {
                    out.push(Piece::Lit(s[last..at].to_string()));
                }
                out.push(Piece::Marker(idx, m.class));
                last = end;
            }
            from = end.max(at + 1);
        }
        if last < s.len() {
            out.push(Piece::Lit(s[last..].to_string()));
        }
    }
    out
}

/// Splits `error:XXXXXXXX:` (8 hex digits) out of a literal as a token slot.
fn openssl_code(p: Piece) -> Vec<Piece> {
    let Piece::Lit(s) = p else { return vec![p] };
    let mut out = Vec::new();
    let mut last = 0;
    let mut from = 0;
    while let Some(i) = s[from..].find("error:") {
        let at = from + i + 6;
        let code = s.get(at..at + 8);
        if code.is_some_and(|c| c.bytes().all(|b| b.is_ascii_hexdigit())) && s[at + 8..].starts_with(':') {
            out.push(Piece::Lit(s[last..at].to_string()));
            out.push(Piece::Slot(Class::Token));
            last = at + 8;
        }
        from = at;
    }
    out.push(Piece::Lit(s[last..].to_string()));
    out.retain(|p| !matches!(p, Piece::Lit(x) if x.is_empty()));
    out
}

/// Whether `b[i..]` starts an ISO 8601 UTC time (`2026-11-21T04:43:44Z`,
/// with a fraction or not: Envoy's `START_TIME`, the ALB's `time`); its length.
fn iso_time_at(b: &[u8], i: usize) -> Option<usize> {
    let d = |k: usize| b.get(i + k).is_some_and(|c| c.is_ascii_digit());
    let at = |k: usize, c: u8| b.get(i + k) == Some(&c);
    let head = (0..4).all(d) && at(4, b'-') && d(5) && d(6) && at(7, b'-') && d(8) && d(9) && at(10, b'T') && d(11) && d(12) && at(13, b':') && d(14) && d(15) && at(16, b':') && d(17) && d(18);
    if !head {
        return None;
    }
    let mut end = 19;
    if at(end, b'.') {
        end += 1;
        while d(end) {
            end += 1;
        }
    }
    at(end, b'Z').then_some(end + 1)
}

/// Splits what names one deployment and not the scenario out of a literal
/// as slots: ISO 8601 times (their hour would otherwise stay literal after
/// the `T`), AWS ARNs (`arn:aws:…`) and an ALB's resource id
/// (`app/NAME/ID`).
/// 16 lower-case hex digits, at least one a letter, ending the word
/// (`"`, space, `-`, `<` or the end): a Cloudflare Ray ID.
fn ray_id_at(b: &[u8], i: usize) -> Option<usize> {
    let w = b.get(i..i + 16)?;
    let hex = w.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
    let letter = w.iter().any(|c| c.is_ascii_alphabetic());
    let end = b.get(i + 16).is_none_or(|c| matches!(c, b'"' | b' ' | b'-' | b'<'));
    (hex && letter && end).then_some(16)
}

fn volatile_ids(p: Piece) -> Vec<Piece> {
    let Piece::Lit(s) = p else { return vec![p] };
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < b.len() {
        let word_start = i == 0 || matches!(b[i - 1], b' ' | b'[' | b'"');
        if word_start {
            if let Some(n) = iso_time_at(b, i) {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Slot(Class::Token));
                i += n;
                continue;
            }
            // Cloudflare's Ray ID (16 hex digits: a Logpush record's `RayID`,
            // the page's `Cloudflare Ray ID: …`), random per request.
            if let Some(n) = ray_id_at(b, i) {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Slot(Class::Token));
                i += n;
                continue;
            }
            if s[i..].starts_with("arn:aws:") || (s[i..].starts_with("app/") && s[i + 4..].split(' ').next().is_some_and(|w| w.contains('/'))) {
                let n = s[i..].find([' ', '"']).unwrap_or(s.len() - i);
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Slot(Class::Path));
                i += n;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        lit.push(ch);
        i += ch.len_utf8();
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

const NAMES3: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
];

/// Is the number at `s[at..end]` an HTTP status that must stay literal: a
/// 3-digit status followed by its reason phrase (`502 Bad Gateway`), or the
/// status field of an access-log line (`first_status`).
fn keeps_status(s: &str, at: usize, end: usize) -> bool {
    // Cloudflare's statuses: a Logpush record's (`"EdgeResponseStatus":521`,
    // `"OriginResponseStatus":0`) and its page's `Error code 521`.
    let before = &s[..at];
    if ["\"EdgeResponseStatus\":", "\"OriginResponseStatus\":", "Error code "].iter().any(|k| before.ends_with(k)) {
        return true;
    }
    if end - at != 3 || !s[at..].starts_with(['1', '2', '3', '4', '5']) {
        return false;
    }
    let rest = &s[end..];
    rest.strip_prefix(' ').is_some_and(|r| r.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// Generic slots in one literal: quoted strings, three-letter names,
/// numbers. `access` marks an access-log line, whose first stand-alone
/// 3-digit number is the status (kept literal); `status_done` says it was
/// already seen in an earlier piece.
fn generic(s: &str, access: bool, status_done: &mut bool, out: &mut Vec<Piece>) {
    let b = s.as_bytes();
    let mut lit = String::new();
    let mut i = 0;
    let flush = |lit: &mut String, out: &mut Vec<Piece>| {
        if !lit.is_empty() {
            out.push(Piece::Lit(std::mem::take(lit)));
        }
    };
    while i < b.len() {
        let c = b[i];
        // "quoted" (only a pair within this literal)
        // An opening quote (after a blank, `(` or the start) with its
        // closing one in this literal (before a blank, `,` or the end).
        let opens = i == 0 || matches!(b[i - 1], b' ' | b'(' | b'=');
        if c == b'"' && opens {
            let close = s[i + 1..].find('"').map(|j| i + 1 + j).filter(|&e| matches!(b.get(e + 1), None | Some(b' ') | Some(b',') | Some(b')')));
            if let Some(close) = close {
                flush(&mut lit, out);
                out.push(Piece::Slot(Class::Quoted));
                i = close + 1;
                continue;
            }
        }
        if c.is_ascii_uppercase() && i + 3 <= b.len() && (i == 0 || !is_word_char(b[i - 1] as char)) {
            let w = &s[i..i + 3];
            let after = b.get(i + 3).copied();
            if NAMES3.contains(&w) && !after.is_some_and(|a| is_word_char(a as char)) {
                flush(&mut lit, out);
                out.push(Piece::Slot(Class::Name3));
                i += 3;
                continue;
            }
        }
        if c.is_ascii_digit() {
            let before = if i == 0 { None } else { Some(b[i - 1]) };
            let mut end = i;
            while end < b.len() && (b[end].is_ascii_digit() || (b[end] == b'.' && end + 1 < b.len() && b[end + 1].is_ascii_digit() && end > i)) {
                end += 1;
            }
            let after = b.get(end).copied();
            let word_before = before.is_some_and(|x| is_word_char(x as char));
            let upper_after = after.is_some_and(|x| x.is_ascii_uppercase());
            let http_version = lit.ends_with("HTTP/");
            let errno = before == Some(b'(') && after == Some(b':');
            let status = keeps_status(s, i, end) || (access && !*status_done && end - i == 3 && before == Some(b' ') && after == Some(b' '));
            if status && access {
                *status_done = true;
            }
            // An ALB access entry's `-1` (a processing time the load balancer
            // could not measure: the request was not dispatched, or no answer
            // came) says what happened: literal, unlike HAProxy's `/-1/` timers.
            let alb_unmeasured = access && &s[i..end] == "1" && lit.ends_with(" -") && after == Some(b' ');
            if word_before || upper_after || http_version || errno || status || alb_unmeasured {
                lit.push_str(&s[i..end]);
            } else {
                // A sign belongs to the number: `-1` in HAProxy's timers.
                if (lit.ends_with('-') || lit.ends_with('+')) && {
                    let t = &lit[..lit.len() - 1];
                    t.is_empty() || t.ends_with('/') || t.ends_with(' ')
                } {
                    lit.pop();
                }
                flush(&mut lit, out);
                out.push(Piece::Slot(Class::Num));
            }
            i = end;
            continue;
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        lit.push(ch);
        i += ch.len_utf8();
    }
    flush(&mut lit, out);
}

/// A varnishlog record without its grouping prefix (`--  FetchError …` →
/// `FetchError …`); any other line as it is.
/// A line indented by a tab (VCC's message quotes the VCL: `\tName or
/// service not known`) loses its indentation, as a pasted line does.
pub fn record_body(text: &str) -> &str {
    let text = text.trim_start_matches('\t');
    ["**  ", "--  ", "*   ", "-   "].iter().find_map(|p| text.strip_prefix(p).filter(|r| r.starts_with(|c: char| c.is_ascii_uppercase() || c == '<'))).unwrap_or(text)
}

/// Pieces of `text` with `markers` (indices into the catalog's table) cut
/// out first, longest first, then the generic slots.
pub fn pieces(text: &str, markers: &[(usize, &Marker)], access: bool, words: &[&str]) -> Vec<Piece> {
    // A varnishlog record's grouping prefix (`--  `, `**  ` under `-g request`;
    // `-   `, `*   ` under the default `-g vxid`) depends on how varnishlog
    // was asked, not on what happened: the template starts at the tag.
    let text = record_body(text);
    // Deployment ids first, so that no marker is cut out of the middle of one.
    let mut pieces = volatile_ids(Piece::Lit(text.to_string()));
    let mut order: Vec<&(usize, &Marker)> = markers.iter().collect();
    order.sort_by_key(|(_, m)| std::cmp::Reverse(m.probe.len()));
    for (idx, m) in order {
        if !m.numeric {
            pieces = cut_marker(pieces, *idx, m);
        }
    }
    // Words that vary between set-ups but are no scenario field (HAProxy's
    // section names): generic tokens.
    for w in words {
        let m = Marker { probe: w.to_string(), class: Class::Token, numeric: false };
        pieces = cut_marker(pieces, usize::MAX, &m)
            .into_iter()
            .map(|p| if matches!(p, Piece::Marker(usize::MAX, _)) { Piece::Slot(Class::Token) } else { p })
            .collect();
    }
    // OpenSSL's error code (`error:0A00010B:`) differs between versions
    // for the same reason; the reason text stays literal.
    pieces = pieces.into_iter().flat_map(openssl_code).collect();
    let mut out = Vec::new();
    let mut status_done = false;
    for p in pieces {
        match p {
            Piece::Lit(s) => generic(&s, access, &mut status_done, &mut out),
            other => out.push(other),
        }
    }
    // Numbers that are markers (pids, numeric knobs): a Num slot whose text was the marker's.
    // Done by re-reading: each Num slot's text is recovered from `text`.
    let numeric: Vec<&(usize, &Marker)> = markers.iter().filter(|(_, m)| m.numeric).collect();
    if !numeric.is_empty() {
        if let Some(values) = match_pieces(&out, text) {
            let mut k = 0;
            for p in out.iter_mut() {
                if p.class().is_some() {
                    if let (Piece::Slot(Class::Num), Some(v)) = (&*p, values.get(k)) {
                        if let Some((idx, _)) = numeric.iter().find(|(_, m)| m.probe == *v) {
                            *p = Piece::Marker(*idx, Class::Num);
                        }
                    }
                    k += 1;
                }
            }
        }
    }
    // The server after a section name (`be_app/app1`): generic too.
    let mut i = 0;
    while i + 1 < out.len() {
        if let (Piece::Slot(Class::Token), Piece::Lit(s)) = (&out[i], &out[i + 1]) {
            if let Some(rest) = s.strip_prefix('/') {
                let n = rest.find(' ').unwrap_or(rest.len());
                if n > 0 {
                    let tail = rest[n..].to_string();
                    out[i + 1] = Piece::Lit("/".into());
                    out.insert(i + 2, Piece::Slot(Class::Token));
                    if !tail.is_empty() {
                        out.insert(i + 3, Piece::Lit(tail));
                    }
                }
            }
        }
        i += 1;
    }
    // An HTTP method before a path marker is a marker of its own (its value
    // is found in the scenario by `fill`); the version after it is generic.
    let mut fixed = Vec::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        let next_is_path = matches!(out.get(i + 1), Some(Piece::Marker(_, Class::Path)));
        if let (Piece::Lit(s), true) = (&out[i], next_is_path) {
            if let Some(sp) = s.strip_suffix(' ') {
                let start = sp.rfind(|c: char| !c.is_ascii_uppercase()).map(|p| p + 1).unwrap_or(0);
                let word = &sp[start..];
                if word.len() >= 3 {
                    if start > 0 {
                        fixed.push(Piece::Lit(sp[..start].to_string()));
                    }
                    fixed.push(Piece::Marker(method_marker(word), Class::Upper));
                    fixed.push(Piece::Lit(" ".into()));
                    i += 1;
                    continue;
                }
            }
        }
        if let (Some(Piece::Marker(_, Class::Path)), Piece::Lit(s)) = (fixed.last(), &out[i]) {
            if let Some(rest) = s.strip_prefix(" HTTP/") {
                let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
                if n > 0 {
                    fixed.push(Piece::Lit(" HTTP/".into()));
                    fixed.push(Piece::Slot(Class::Num));
                    if n < rest.len() {
                        fixed.push(Piece::Lit(rest[n..].to_string()));
                    }
                    i += 1;
                    continue;
                }
            }
        }
        fixed.push(out[i].clone());
        i += 1;
    }
    fixed
}

/// Methods are markers with reserved indices at the top of the range: the
/// method's own text is its probe value (see `catalog::marker_of`).
pub const METHOD_BASE: usize = usize::MAX - 64;
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE"];

fn method_marker(word: &str) -> usize {
    METHOD_BASE + METHODS.iter().position(|m| *m == word).unwrap_or(METHODS.len())
}

/// The method a method marker was made from ("" for one not in the list).
pub fn method_of(idx: usize) -> Option<&'static str> {
    idx.checked_sub(METHOD_BASE).map(|i| METHODS.get(i).copied().unwrap_or(""))
}

impl Template {
    pub fn new(line: &str, markers: &[(usize, &Marker)], access: bool, words: &[&str]) -> Template {
        let (head, ctx) = split_context(line);
        let head = pieces(head, markers, access, words);
        let context = ctx.into_iter().map(|(k, v)| (k.to_string(), pieces(v, markers, false, words))).collect();
        let short = cut_action(&head).map(|h| Box::new(Template::from_head(h, Vec::new(), None)));
        Template::from_head(head, context, short)
    }

    fn from_head(head: Vec<Piece>, context: Vec<(String, Vec<Piece>)>, short: Option<Box<Template>>) -> Template {
        let key = longest_literal(&head);
        let mut first_long = head.iter().position(|p| matches!(p, Piece::Lit(s) if s.trim().len() >= MIN_SKIP)).unwrap_or(key).min(key);
        // An ALB access entry (`http|https|h2 TIME …`) states its status before its
        // long literals: a match must start at the entry's type, so that the
        // status (`elb_status_code`) is always compared.
        if matches!(head.first(), Some(Piece::Lit(t)) if ["http ", "https ", "h2 "].contains(&t.as_str())) && matches!(head.get(1), Some(Piece::Slot(Class::Token))) {
            first_long = 0;
        }
        Template { head, context, key, first_long, short }
    }

    /// The head's key literal, trimmed (what a prefilter looks for).
    pub fn key_text(&self) -> &str {
        match self.head.get(self.key) {
            Some(Piece::Lit(s)) => s.trim(),
            _ => "",
        }
    }

    /// Literal characters in the head.
    pub fn literal_len(&self) -> usize {
        self.head.iter().map(|p| if let Piece::Lit(s) = p { s.len() } else { 0 }).sum()
    }

    /// The template as text, slots shown as `<num>`, `<path>`...
    pub fn render(&self) -> String {
        let mut s = render(&self.head);
        for (k, v) in &self.context {
            s.push_str(&format!(", {k}: {}", render(v)));
        }
        s
    }
}

/// The head up to its action clause (` while ...`), if it has one after
/// some message text.
fn cut_action(head: &[Piece]) -> Option<Vec<Piece>> {
    for (i, p) in head.iter().enumerate() {
        if let Piece::Lit(s) = p {
            if let Some(at) = s.find(" while ") {
                let mut out = head[..i].to_vec();
                if at > 0 {
                    out.push(Piece::Lit(s[..at].to_string()));
                }
                let message: usize = out.iter().map(|p| if let Piece::Lit(s) = p { s.trim().len() } else { 0 }).sum();
                return (message >= MIN_SKIP).then_some(out);
            }
        }
    }
    None
}

fn render(p: &[Piece]) -> String {
    p.iter()
        .map(|p| match p {
            Piece::Lit(s) => s.clone(),
            Piece::Slot(c) | Piece::Marker(_, c) => format!("<{}>", format!("{c:?}").to_lowercase()),
        })
        .collect()
}

fn longest_literal(p: &[Piece]) -> usize {
    let mut best = (0, usize::MAX);
    for (i, x) in p.iter().enumerate() {
        if let Piece::Lit(s) = x {
            let n = s.trim().len();
            if best.1 == usize::MAX || n > best.0 {
                best = (n, i);
            }
        }
    }
    best.1
}

/// Shortest literal a pasted line may start at (the message, not the time).
pub const MIN_SKIP: usize = 12;

/// Steps one match may take (each slot length tried counts one).
pub const STEP_BUDGET: usize = 20_000;

/// Matches `pieces` against all of `text`. Returns each slot's text, in
/// order, or None.
pub fn match_pieces<'t>(pieces: &[Piece], text: &'t str) -> Option<Vec<&'t str>> {
    let mut budget = STEP_BUDGET;
    match_open(pieces, text, None, &mut budget)
}

/// As `match_pieces`; with `open = Some(k)` the text may stop early (a
/// line cut short): anywhere after piece `k`, or inside literal `k` once
/// `MIN_CUT` characters of it are there.
pub fn match_open<'t>(pieces: &[Piece], text: &'t str, open: Option<usize>, budget: &mut usize) -> Option<Vec<&'t str>> {
    let mut out = Vec::new();
    let left = open.map(|k| k as isize);
    if walk(pieces, text, 0, &mut out, budget, left) {
        Some(out)
    } else {
        None
    }
}

/// Characters of the key literal a cut-short line must still show.
pub const MIN_CUT: usize = 20;

fn walk<'t>(pieces: &[Piece], text: &'t str, at: usize, out: &mut Vec<&'t str>, budget: &mut usize, left: Option<isize>) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let next = left.map(|l| l - 1);
    let Some(first) = pieces.first() else { return at == text.len() };
    let rest = &text[at..];
    if let Some(l) = left {
        if rest.is_empty() && l < 0 {
            return true;
        }
    }
    match first {
        Piece::Lit(s) => {
            if rest.starts_with(s.as_str()) {
                return walk(&pieces[1..], text, at + s.len(), out, budget, next);
            }
            // Cut short inside this literal.
            matches!(left, Some(l) if (l < 0 || (l == 0 && rest.len() >= MIN_CUT)) && s.starts_with(rest))
        }
        _ => {
            let class = first.class().unwrap_or(Class::Text);
            let fixed = match class {
                Class::Num => {
                    let b = rest.as_bytes();
                    let mut n = usize::from(b.first().is_some_and(|c| *c == b'-' || *c == b'+'));
                    let digits = n;
                    while n < b.len() && (b[n].is_ascii_digit() || (b[n] == b'.' && n > digits && b.get(n + 1).is_some_and(|c| c.is_ascii_digit()))) {
                        n += 1;
                    }
                    Some(if n > digits { n } else { 0 })
                }
                Class::Name3 => Some(if rest.len() >= 3 && rest.as_bytes()[..3].iter().all(|c| c.is_ascii_alphabetic()) { 3 } else { 0 }),
                Class::Quoted => {
                    let b = rest.as_bytes();
                    if b.first() != Some(&b'"') {
                        Some(0)
                    } else {
                        let mut n = 1;
                        let mut end = 0;
                        while n < b.len() {
                            if b[n] == b'\\' {
                                n += 2;
                                continue;
                            }
                            if b[n] == b'"' {
                                end = n + 1;
                                break;
                            }
                            n += 1;
                        }
                        Some(end)
                    }
                }
                _ => None,
            };
            if let Some(n) = fixed {
                if n == 0 {
                    return false;
                }
                out.push(&rest[..n]);
                if walk(&pieces[1..], text, at + n, out, budget, next) {
                    return true;
                }
                out.pop();
                return false;
            }
            // A path starts with its slash.
            // (`unix:/run/php/php8.2-fpm.sock`: a socket address in `fastcgi://unix:…:`.)
            // (An AWS ARN and an ALB's `app/NAME/ID`: see `volatile_ids`.)
            if class == Class::Path && !(rest.starts_with('/') || rest.starts_with("http://") || rest.starts_with("https://") || rest.starts_with("unix:/") || rest.starts_with("arn:aws:") || rest.starts_with("app/")) {
                return false;
            }
            // A marker: shortest first, growing while the class allows.
            for (i, c) in rest.char_indices() {
                if !class.allows(c) {
                    break;
                }
                let end = i + c.len_utf8();
                if class == Class::Addr && !is_addr(&rest[..end]) {
                    continue;
                }
                out.push(&rest[..end]);
                if walk(&pieces[1..], text, at + end, out, budget, next) {
                    return true;
                }
                out.pop();
                if *budget == 0 {
                    return false;
                }
            }
            false
        }
    }
}

/// Where a pasted line may start when it does not start where the
/// engine's does (no time or pid, a prefix of another program, Markdown
/// quotes): after a blank or one of these.
fn starts(head: &str) -> Vec<usize> {
    let mut v = vec![0];
    let b = head.as_bytes();
    for i in 1..b.len() {
        if matches!(b[i - 1], b' ' | b'`' | b'*' | b'\'' | b'>' | b'|' | b'"' | b'(' | b']' | b':') && b[i] != b' ' {
            v.push(i);
        }
        if v.len() > 48 {
            break;
        }
    }
    v
}

/// A pasted head laid over a template's head: the whole head, or from one
/// of its later pieces (a line pasted without its time and pid, or with
/// another prefix), as long as the key literal is covered; with `open`, a
/// line cut short (`$`, `...`) may stop inside the key literal's tail.
/// Returns the index of the first piece matched and the slots' texts.
pub fn match_head<'t>(t: &Template, head: &'t str, open: bool, budget: &mut usize) -> Option<(usize, Vec<&'t str>)> {
    let key = if open { Some(t.key) } else { None };
    for (k, p) in t.head.iter().enumerate().take(t.first_long.saturating_add(1)) {
        let ok = match p {
            Piece::Lit(s) => k == 0 || s.trim().len() >= 6,
            Piece::Marker(..) => true,
            Piece::Slot(_) => k == 0,
        };
        if !ok {
            continue;
        }
        let mut ps: Vec<Piece> = Vec::with_capacity(t.head.len() - k);
        match p {
            Piece::Lit(s) if k > 0 => ps.push(Piece::Lit(s.trim_start().to_string())),
            other => ps.push(other.clone()),
        }
        ps.extend_from_slice(&t.head[k + 1..]);
        let key_rel = key.map(|x| x - k);
        for st in starts(head) {
            if *budget == 0 {
                return None;
            }
            if let Some(v) = match_open(&ps, &head[st..], key_rel, budget) {
                return Some((k, v));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Marker {
        Marker { probe: s.into(), class: Class::of(s), numeric: false }
    }

    #[test]
    fn nginx_line_round_trip() {
        let line = "2026/11/21 04:43:44 [crit] 4453#4453: *1 connect() to unix:/run/app/app.sock failed (2: No such file or directory) while connecting to upstream, client: 198.51.100.7, server: server.probe.test, request: \"GET /users HTTP/1.1\", upstream: \"http://unix:/run/app/app.sock:/users\", host: \"host.probe.test\"";
        let ms = [m("/run/app/app.sock"), m("198.51.100.7"), m("server.probe.test"), m("/users"), m("host.probe.test")];
        let idx: Vec<(usize, &Marker)> = ms.iter().enumerate().collect();
        let t = Template::new(line, &idx, false, &[]);
        assert_eq!(t.key_text(), "failed (2: No such file or directory) while connecting to upstream");
        let pasted = "2019/02/03 10:11:12 [crit] 1234#1234: *77 connect() to unix:/run/php/php7.4-fpm.sock failed (2: No such file or directory) while connecting to upstream";
        let (head, _) = split_context(pasted);
        let (_, v) = match_head(&t, head, false, &mut 100_000).expect("matches");
        assert!(v.contains(&"/run/php/php7.4-fpm.sock"), "{v:?}");
        let (_, ctx) = split_context(line);
        assert_eq!(ctx.len(), 5);
        assert_eq!(ctx[3], ("upstream", "\"http://unix:/run/app/app.sock:/users\""));
    }

    #[test]
    fn message_alone_matches() {
        let line = "2026/11/21 04:43:44 [error] 4453#4453: *1 upstream prematurely closed connection while reading response header from upstream";
        let t = Template::new(line, &[], false, &[]);
        assert!(match_head(&t, "upstream prematurely closed connection while reading response header from upstream", false, &mut 100_000).is_some());
        assert!(match_head(&t, "upstream prematurely closed connection while reading upstream", false, &mut 100_000).is_none());
    }

    #[test]
    fn access_status_is_literal() {
        let line = "198.51.100.7 - - [21/Nov/2026:04:43:44 +0000] \"GET /users HTTP/1.1\" 502 157 \"-\" \"curl/8.5.0\"";
        let ms = [m("198.51.100.7"), m("/users")];
        let idx: Vec<(usize, &Marker)> = ms.iter().enumerate().collect();
        let t = Template::new(line, &idx, true, &[]);
        assert!(match_head(&t, "10.0.0.1 - - [01/Jan/2020:00:00:01 +0100] \"POST /api/x?y=1 HTTP/2.0\" 502 552 \"https://a/\" \"Mozilla/5.0 (X11)\"", false, &mut 100_000).is_some(), "{}", t.render());
        assert!(match_head(&t, "10.0.0.1 - - [01/Jan/2020:00:00:01 +0100] \"POST /api/x HTTP/1.1\" 504 552 \"-\" \"x\"", false, &mut 100_000).is_none());
    }
}
