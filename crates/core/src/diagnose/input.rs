//! What was pasted, made safe to read: bounded in size and lines, terminal
//! escapes and control characters removed, `curl -v` markers and HTML tags
//! taken off. Unusable input is refused here with a message.

use super::catalog::page_text;

/// The most bytes a paste may have. A log excerpt worth diagnosing is a
/// few lines; a whole log file is refused rather than read slowly.
pub const MAX_BYTES: usize = 256 * 1024;
/// The most non-blank lines read.
pub const MAX_LINES: usize = 200;
/// Longer lines are cut to this many bytes (nginx's own lines rarely pass 2 KiB).
pub const MAX_LINE_BYTES: usize = 4 * 1024;

/// A pasted line, cleaned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number in the paste.
    pub number: usize,
    pub text: String,
    /// A `curl -v` line the client sent (`> GET / HTTP/1.1`) or curl's own
    /// remark (`* Connected to ...`): context, nothing a server wrote.
    pub informational: bool,
}

/// Why a paste was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unusable(pub String);

/// Removes ANSI escape sequences (CSI `ESC [ ... final`, OSC `ESC ] ... BEL/ST`,
/// two-byte `ESC x`) and control characters other than tab and newline.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '\u{1b}' => match it.peek() {
                Some('[') => {
                    it.next();
                    // Parameters and intermediates, then one final byte in @..~.
                    for d in it.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    it.next();
                    while let Some(d) = it.next() {
                        if d == '\u{7}' {
                            break;
                        }
                        if d == '\u{1b}' {
                            it.next();
                            break;
                        }
                    }
                }
                Some(_) => {
                    it.next();
                }
                None => {}
            },
            '\t' => out.push(' '),
            '\n' => out.push('\n'),
            '\r' => out.push('\n'),
            c if c.is_control() => {}
            // Zero-width and bidi controls hide text from the eye: drop them.
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Wording that differs between versions of the same software for the
/// same event, put in the form the engine writes: OpenSSL 1.1 names the
/// function (`SSL routines:ssl3_get_record:wrong version number`), 3.0 does
/// not (`SSL routines::wrong version number`); HAProxy's captured headers
/// (`{...}` before the request) are a logging option, not the event.
pub fn normalise(line: &str) -> String {
    let mut s = line.to_string();
    let mut from = 0;
    while let Some(i) = s[from..].find("SSL routines:") {
        let at = from + i + "SSL routines:".len();
        let func = s[at..].find(':').filter(|&n| n > 0 && s[at..at + n].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        if let Some(n) = func {
            s.replace_range(at..at + n, "");
        }
        from = at;
    }
    while let Some(i) = s.find(" {") {
        let Some(j) = s[i..].find("} \"") else { break };
        s.replace_range(i..i + j + 1, "");
    }
    s
}

/// `GET / HTTP/1.1` or `Host: example.com`: what curl -v prints after `> `.
fn curl_request_line(r: &str) -> bool {
    let word: String = r.chars().take_while(|c| c.is_ascii_uppercase()).collect();
    let method = !word.is_empty() && r[word.len()..].starts_with(' ') && r.ends_with(|c: char| c.is_ascii_digit()) && r.contains(" HTTP/");
    let header = r.split_once(": ").is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    method || header
}

/// Takes off Markdown around a line (backticks, bold, single quotes).
fn strip_markup(t: &str) -> String {
    let mut s = t.trim();
    for _ in 0..3 {
        let before = s;
        // A line's own trailing `***` (uWSGI's `HARAKIRI ON WORKER … ***`)
        // is markup only when the line opens with markup too.
        let opened = s.starts_with(['`', '*']);
        s = s.trim_start_matches(['`', '*']);
        s = if opened { s.trim_end_matches(['`', '*']) } else { s.trim_end_matches('`') }.trim();
        if let Some(inner) = s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
            s = inner.trim();
        }
        if s == before {
            break;
        }
    }
    s.to_string()
}

/// Reads a paste into lines, or says why it cannot be used.
pub fn read(text: &str) -> Result<Vec<Line>, Unusable> {
    if text.len() > MAX_BYTES {
        return Err(Unusable(format!(
            "the paste is larger than {} KiB (diagnose reads at most that much): paste the few lines around the error, not the whole log",
            MAX_BYTES / 1024
        )));
    }
    let controls = text.chars().filter(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{1b}')) || *c == '\u{fffd}').count();
    let total = text.chars().count();
    if text.contains('\0') || (total > 0 && controls * 10 > total) {
        return Err(Unusable(format!("the paste looks like binary data ({controls} control bytes in {total} characters), not log lines")));
    }
    let cleaned = clean(text);
    let html = cleaned.contains("<html") || cleaned.contains("<center>") || cleaned.contains("<body") || cleaned.contains("<h1>")
        // A page's title or a span of it quoted alone (Cloudflare's `<title>host | 524: …</title>`,
        // `<span class="code-label">Error code 524</span>`).
        || cleaned.contains("<title>")
        || cleaned.contains("<span");
    let mut lines = Vec::new();
    let mut nonblank = 0;
    for (i, raw) in cleaned.split('\n').enumerate() {
        let t = raw.trim();
        if t.is_empty() {
            continue;
        }
        nonblank += 1;
        if nonblank > MAX_LINES {
            let n = cleaned.split('\n').filter(|l| !l.trim().is_empty()).count();
            return Err(Unusable(format!("the paste has {n} lines; diagnose reads at most {MAX_LINES}: paste the lines around the error")));
        }
        let mut t = t.to_string();
        if t.len() > MAX_LINE_BYTES {
            let mut cut = MAX_LINE_BYTES;
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            t.truncate(cut);
        }
        // curl -v: `< ` what the server sent, `> ` what curl sent (a
        // request line or header), `* ` curl's remarks. Any other `> ` is a
        // Markdown quote.
        let (t, informational) = if let Some(r) = t.strip_prefix("< ") {
            (r.to_string(), false)
        } else if let Some(r) = t.strip_prefix("> ") {
            if curl_request_line(r) {
                (t, true)
            } else {
                (r.to_string(), false)
            }
        } else if t == "<" || t == ">" || t.starts_with("* ") || t.starts_with("{ ") || t.starts_with("} ") {
            (t, true)
        } else {
            (t, false)
        };
        // Markdown around a quoted line: `code`, **bold**, 'quotes'.
        let t = strip_markup(&t);
        if t.is_empty() {
            continue;
        }
        if html && !informational && t.contains('<') {
            for p in page_text(&t) {
                lines.push(Line { number: i + 1, text: p, informational: false });
            }
            continue;
        }
        lines.push(Line { number: i + 1, text: normalise(&t), informational });
    }
    if lines.iter().all(|l| l.informational) {
        return Err(Unusable("nothing to diagnose: paste a line from error.log, access.log, HAProxy's log, the app's log, curl's output or the error page".into()));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_controls_go() {
        assert_eq!(clean("\u{1b}[31m[error]\u{1b}[0m a\u{7}b\r\n"), "[error] ab\n\n");
        assert_eq!(clean("\u{1b}]0;title\u{7}x"), "x");
    }

    #[test]
    fn bounds() {
        assert!(read(&"x".repeat(MAX_BYTES + 1)).is_err());
        assert!(read(&"a\n".repeat(MAX_LINES + 1)).is_err());
        assert!(read("\0\0\0").is_err());
        assert!(read("   \n\n").is_err());
        let l = read("* Connected\n< HTTP/1.1 502 Bad Gateway\n").unwrap();
        assert_eq!(l[1].text, "HTTP/1.1 502 Bad Gateway");
        assert!(l[0].informational);
    }
}
