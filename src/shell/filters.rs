//! Text filters for pipes: `grep` (GNU grep's basic and extended regular
//! expressions, without groups, intervals or back-references) and `wc`.
//! `head` and `tail` live with the files they usually read (files.rs).

use super::files::{self, Input};
use super::{Ctx, Res};

/// `grep [-i] [-v] [-c] [-n] [-E] [-F] [-h|-H] PATTERN [FILE...]`.
pub(super) fn grep(ctx: &mut Ctx<'_>, args: &[String], stdin: Option<String>) -> Res {
    let mut o = GrepOpts::default();
    let mut pattern: Option<String> = None;
    let mut files_: Vec<String> = Vec::new();
    let mut it = args.iter();
    let mut only_operands = false;
    while let Some(a) = it.next() {
        if only_operands || !a.starts_with('-') || a == "-" {
            if pattern.is_none() {
                pattern = Some(a.clone());
            } else {
                files_.push(a.clone());
            }
            continue;
        }
        if a == "--" {
            only_operands = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            match long {
                "ignore-case" => o.icase = true,
                "invert-match" => o.invert = true,
                "count" => o.count = true,
                "line-number" => o.number = true,
                "extended-regexp" => o.ere = true,
                "fixed-strings" => o.fixed = true,
                "basic-regexp" => o.ere = false,
                "no-filename" => o.names = Some(false),
                "with-filename" => o.names = Some(true),
                "quiet" | "silent" => o.quiet = true,
                _ => return usage_error(&format!("grep: unrecognized option '{a}'\n")),
            }
            continue;
        }
        let flags: Vec<char> = a.chars().skip(1).collect();
        let mut i = 0;
        while i < flags.len() {
            match flags[i] {
                'i' | 'y' => o.icase = true,
                'v' => o.invert = true,
                'c' => o.count = true,
                'n' => o.number = true,
                'E' => o.ere = true,
                'F' => o.fixed = true,
                'G' => o.ere = false,
                'h' => o.names = Some(false),
                'H' => o.names = Some(true),
                'q' | 's' => o.quiet = flags[i] == 'q' || o.quiet,
                'e' => {
                    // -ePATTERN or -e PATTERN
                    let rest: String = flags[i + 1..].iter().collect();
                    let p = if rest.is_empty() { it.next().cloned() } else { Some(rest) };
                    match p {
                        Some(p) => {
                            if let Some(old) = pattern.take() {
                                files_.insert(0, old);
                            }
                            pattern = Some(p);
                        }
                        None => return usage_error("grep: option requires an argument -- 'e'\n"),
                    }
                    break;
                }
                c => return usage_error(&format!("grep: invalid option -- '{c}'\n")),
            }
            i += 1;
        }
    }
    let Some(pattern) = pattern else { return usage_error("") };
    let re = match Regex::new(&pattern, o.ere, o.fixed, o.icase) {
        Ok(r) => r,
        Err(e) => return Res::with(String::new(), format!("grep: {e}\n"), 2),
    };
    let inputs: Vec<(String, Result<String, String>)> = if files_.is_empty() {
        match stdin {
            Some(s) => vec![("(standard input)".to_string(), Ok(s))],
            None => {
                return Res::with(String::new(), "grep: reading the keyboard is not simulated here: pipe into grep or name a file\n".into(), 2);
            }
        }
    } else {
        files_
            .iter()
            .map(|f| {
                let r = match files::read(ctx, f) {
                    Input::Text(t) => Ok(t),
                    Input::Missing => Err(format!("grep: {f}: No such file or directory\n")),
                    Input::Directory => Err(format!("grep: {f}: Is a directory\n")),
                    Input::Socket => Err(String::new()),
                    Input::NotModelled => Err(format!("grep: {f}: {}\n", files::NOT_MODELLED)),
                };
                (f.clone(), r)
            })
            .collect()
    };
    let names = o.names.unwrap_or(inputs.len() > 1);
    let mut out = String::new();
    let mut err = String::new();
    let mut any = false;
    let mut trouble = false;
    for (name, text) in inputs {
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                err.push_str(&e);
                trouble = true;
                continue;
            }
        };
        let mut n = 0u64;
        for (i, line) in text.lines().enumerate() {
            if re.is_match(line) != o.invert {
                n += 1;
                any = true;
                if !o.count && !o.quiet {
                    if names {
                        out.push_str(&name);
                        out.push(':');
                    }
                    if o.number {
                        out.push_str(&format!("{}:", i + 1));
                    }
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        if o.count && !o.quiet {
            if names {
                out.push_str(&format!("{name}:"));
            }
            out.push_str(&format!("{n}\n"));
        }
    }
    if o.quiet {
        out.clear();
    }
    let status = if any { 0 } else if trouble { 2 } else { 1 };
    Res::with(out, err, status)
}

fn usage_error(msg: &str) -> Res {
    Res::with(String::new(), format!("{msg}Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"), 2)
}

#[derive(Default)]
struct GrepOpts {
    icase: bool,
    invert: bool,
    count: bool,
    number: bool,
    ere: bool,
    fixed: bool,
    quiet: bool,
    names: Option<bool>,
}

/// `wc [-l] [-w] [-c] [FILE...]`.
pub(super) fn wc(ctx: &mut Ctx<'_>, args: &[String], stdin: Option<String>) -> Res {
    let (mut l, mut w, mut c) = (false, false, false);
    let mut names = Vec::new();
    for a in args {
        match a.as_str() {
            "-l" | "--lines" => l = true,
            "-w" | "--words" => w = true,
            "-c" | "--bytes" | "-m" | "--chars" => c = true,
            s if s.starts_with('-') && s.len() > 1 && !s.starts_with("--") => {
                for f in s.chars().skip(1) {
                    match f {
                        'l' => l = true,
                        'w' => w = true,
                        'c' | 'm' => c = true,
                        x => {
                            return Res::with(String::new(), format!("wc: invalid option -- '{x}'\nTry 'wc --help' for more information.\n"), 1)
                        }
                    }
                }
            }
            s if s.starts_with("--") => {
                return Res::with(String::new(), format!("wc: unrecognized option '{s}'\nTry 'wc --help' for more information.\n"), 1)
            }
            s => names.push(s.to_string()),
        }
    }
    if !(l || w || c) {
        (l, w, c) = (true, true, true);
    }
    let counts = |t: &str| -> Vec<usize> {
        let mut v = Vec::new();
        if l {
            v.push(t.bytes().filter(|&b| b == b'\n').count());
        }
        if w {
            v.push(t.split_whitespace().count());
        }
        if c {
            v.push(t.len());
        }
        v
    };
    if names.is_empty() {
        let Some(t) = stdin else {
            return Res::with(String::new(), "wc: reading the keyboard is not simulated here: pipe into wc or name a file\n".into(), 1);
        };
        let v = counts(&t);
        // GNU wc: one count from a pipe is printed bare; several get width 7.
        let width = if v.len() == 1 { 1 } else { 7 };
        let line: Vec<String> = v.iter().map(|n| format!("{n:>width$}")).collect();
        return Res::with(format!("{}\n", line.join(" ")), String::new(), 0);
    }
    let mut rows: Vec<(Vec<usize>, String)> = Vec::new();
    let mut err = String::new();
    let mut total_bytes = 0;
    for f in &names {
        match files::read(ctx, f) {
            Input::Text(t) => {
                total_bytes += t.len();
                rows.push((counts(&t), f.clone()));
            }
            Input::Directory => {
                err.push_str(&format!("wc: {f}: Is a directory\n"));
                rows.push((counts(""), f.clone()));
            }
            Input::Missing | Input::Socket => err.push_str(&format!("wc: {f}: No such file or directory\n")),
            Input::NotModelled => err.push_str(&format!("wc: {f}: {}\n", files::NOT_MODELLED)),
        }
    }
    if rows.len() > 1 {
        let n = rows[0].0.len();
        let total: Vec<usize> = (0..n).map(|i| rows.iter().map(|r| r.0[i]).sum()).collect();
        rows.push((total, "total".into()));
    }
    // GNU wc sizes the columns for the largest possible count: the bytes.
    let single = rows.len() == 1 && rows[0].0.len() == 1;
    let width = if single { 1 } else { total_bytes.to_string().len() };
    let mut out = String::new();
    for (v, name) in rows {
        let cols: Vec<String> = v.iter().map(|n| format!("{n:>width$}")).collect();
        out.push_str(&format!("{} {name}\n", cols.join(" ")));
    }
    let status = if err.is_empty() { 0 } else { 1 };
    Res::with(out, err, status)
}

/// A small regular-expression matcher: GNU grep's BRE and ERE without
/// groups, intervals and back-references. Alternation (`\|` in BRE, `|` in
/// ERE), `^`, `$`, `.`, bracket expressions (ranges, negation, `[:digit:]`
/// and friends), `*`, and `\+`/`\?` (BRE) or `+`/`?` (ERE); `\w`, `\W`,
/// `\s`, `\S`. Matching is a bounded backtracking search.
#[derive(Debug)]
pub(super) struct Regex {
    alts: Vec<Alt>,
    icase: bool,
}

#[derive(Debug)]
struct Alt {
    start: bool,
    end: bool,
    items: Vec<(Atom, Quant)>,
}

#[derive(Debug, Clone)]
enum Atom {
    Char(char),
    Any,
    Class { negated: bool, items: Vec<ClassItem> },
}

#[derive(Debug, Clone)]
enum ClassItem {
    Char(char),
    Range(char, char),
    Named(fn(char) -> bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quant {
    One,
    Star,
    Plus,
    Opt,
}

const UNSUPPORTED: &str = "this terminal's grep does not support groups, intervals or back-references";

impl Regex {
    pub(super) fn new(pattern: &str, ere: bool, fixed: bool, icase: bool) -> Result<Regex, String> {
        let fold = |c: char| if icase { c.to_lowercase().next().unwrap_or(c) } else { c };
        if fixed {
            let alts = pattern
                .split('\n')
                .map(|p| Alt { start: false, end: false, items: p.chars().map(|c| (Atom::Char(fold(c)), Quant::One)).collect() })
                .collect();
            return Ok(Regex { alts, icase });
        }
        let mut alts = Vec::new();
        for branch in split_alternatives(pattern, ere) {
            alts.push(parse_branch(&branch, ere, &fold)?);
        }
        Ok(Regex { alts, icase })
    }

    pub(super) fn is_match(&self, line: &str) -> bool {
        let text: Vec<char> = if self.icase {
            line.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect()
        } else {
            line.chars().collect()
        };
        self.alts.iter().any(|alt| {
            let mut budget = 200_000u32;
            if alt.start {
                return match_here(&alt.items, &text, 0, alt.end, &mut budget);
            }
            (0..=text.len()).any(|i| match_here(&alt.items, &text, i, alt.end, &mut budget))
        })
    }
}

/// Splits on top-level alternation: `|` in ERE, `\|` in BRE.
fn split_alternatives(p: &str, ere: bool) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        let cur = out.last_mut().expect("never empty");
        if in_class {
            cur.push(c);
            if c == ']' {
                in_class = false;
            }
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                cur.push(c);
                // A ']' right after '[' or '[^' is literal.
                if chars.peek() == Some(&'^') {
                    cur.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    cur.push(']');
                    chars.next();
                }
            }
            '\\' => match chars.next() {
                Some('|') if !ere => out.push(String::new()),
                Some(n) => {
                    cur.push('\\');
                    cur.push(n);
                }
                None => cur.push('\\'),
            },
            '|' if ere => out.push(String::new()),
            c => cur.push(c),
        }
    }
    out
}

fn parse_branch(p: &str, ere: bool, fold: &dyn Fn(char) -> char) -> Result<Alt, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut alt = Alt { start: false, end: false, items: Vec::new() };
    if chars.first() == Some(&'^') {
        alt.start = true;
        i = 1;
    }
    let mut end = chars.len();
    if end > i && chars[end - 1] == '$' && !(end >= 2 && chars[end - 2] == '\\' && end - 2 >= i) {
        alt.end = true;
        end -= 1;
    }
    while i < end {
        let c = chars[i];
        let atom = match c {
            '.' => {
                i += 1;
                Atom::Any
            }
            '[' => {
                let (atom, next) = parse_class(&chars, i, fold)?;
                i = next;
                atom
            }
            '\\' => {
                let n = *chars.get(i + 1).ok_or("trailing backslash (\\)")?;
                i += 2;
                match n {
                    '(' | ')' | '{' | '}' | '1'..='9' if !ere => return Err(UNSUPPORTED.into()),
                    '+' | '?' if !ere => {
                        // BRE \+ and \? quantify the previous atom.
                        let q = if n == '+' { Quant::Plus } else { Quant::Opt };
                        match alt.items.last_mut() {
                            Some(last) if last.1 == Quant::One => last.1 = q,
                            _ => alt.items.push((Atom::Char(fold(n)), Quant::One)),
                        }
                        continue;
                    }
                    '1'..='9' => return Err(UNSUPPORTED.into()),
                    'w' => Atom::Class { negated: false, items: vec![ClassItem::Named(is_word)] },
                    'W' => Atom::Class { negated: true, items: vec![ClassItem::Named(is_word)] },
                    's' => Atom::Class { negated: false, items: vec![ClassItem::Named(char::is_whitespace)] },
                    'S' => Atom::Class { negated: true, items: vec![ClassItem::Named(char::is_whitespace)] },
                    other => Atom::Char(fold(other)),
                }
            }
            '(' | ')' | '{' if ere => return Err(UNSUPPORTED.into()),
            '*' if alt.items.is_empty() => {
                // A leading '*' is literal.
                i += 1;
                Atom::Char('*')
            }
            '*' | '+' | '?' if ere || c == '*' => {
                i += 1;
                let q = match c {
                    '*' => Quant::Star,
                    '+' => Quant::Plus,
                    _ => Quant::Opt,
                };
                match alt.items.last_mut() {
                    Some(last) => {
                        // `a**` is `a*`; `a+*` is `a*`.
                        last.1 = if last.1 == Quant::One { q } else { Quant::Star };
                    }
                    None => alt.items.push((Atom::Char(c), Quant::One)),
                }
                continue;
            }
            other => {
                i += 1;
                Atom::Char(fold(other))
            }
        };
        alt.items.push((atom, Quant::One));
    }
    Ok(alt)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn parse_class(chars: &[char], open: usize, fold: &dyn Fn(char) -> char) -> Result<(Atom, usize), String> {
    let mut i = open + 1;
    let mut negated = false;
    if chars.get(i) == Some(&'^') {
        negated = true;
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else { return Err("Unmatched [, [^, [:, [., or [=".into()) };
        if c == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        if c == '[' && chars.get(i + 1) == Some(&':') {
            let rest: String = chars[i + 2..].iter().collect();
            let Some(end) = rest.find(":]") else { return Err("Unmatched [, [^, [:, [., or [=".into()) };
            let name = &rest[..end];
            let f: fn(char) -> bool = match name {
                "digit" => |c| c.is_ascii_digit(),
                "alpha" => char::is_alphabetic,
                "alnum" => char::is_alphanumeric,
                "space" => char::is_whitespace,
                "upper" => char::is_uppercase,
                "lower" => char::is_lowercase,
                "punct" => |c| c.is_ascii_punctuation(),
                "xdigit" => |c| c.is_ascii_hexdigit(),
                "blank" => |c| c == ' ' || c == '\t',
                _ => return Err("character class syntax is [[:space:]], not [:space:]".into()),
            };
            items.push(ClassItem::Named(f));
            i += 2 + end + 2;
            continue;
        }
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']') {
            let e = chars[i + 2];
            if e < c {
                return Err("Invalid range end".into());
            }
            items.push(ClassItem::Range(fold(c), fold(e)));
            if fold(c) != c || fold(e) != e || c.is_ascii_lowercase() != e.is_ascii_lowercase() {
                items.push(ClassItem::Range(c, e));
            }
            i += 3;
            continue;
        }
        items.push(ClassItem::Char(fold(c)));
        i += 1;
    }
    Ok((Atom::Class { negated, items }, i))
}

fn atom_matches(atom: &Atom, c: char) -> bool {
    match atom {
        Atom::Char(a) => *a == c,
        Atom::Any => true,
        Atom::Class { negated, items } => {
            let hit = items.iter().any(|it| match it {
                ClassItem::Char(x) => *x == c,
                ClassItem::Range(a, b) => (*a..=*b).contains(&c),
                ClassItem::Named(f) => f(c),
            });
            hit != *negated
        }
    }
}

/// Does `items` match `text` from `pos` (to the end if `end`)? Bounded:
/// gives up (no match) when the step budget runs out.
fn match_here(items: &[(Atom, Quant)], text: &[char], pos: usize, end: bool, budget: &mut u32) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    let Some(((atom, q), rest)) = items.split_first() else {
        return !end || pos == text.len();
    };
    match q {
        Quant::One => pos < text.len() && atom_matches(atom, text[pos]) && match_here(rest, text, pos + 1, end, budget),
        Quant::Opt => {
            (pos < text.len() && atom_matches(atom, text[pos]) && match_here(rest, text, pos + 1, end, budget))
                || match_here(rest, text, pos, end, budget)
        }
        Quant::Star | Quant::Plus => {
            let mut n = 0;
            while pos + n < text.len() && atom_matches(atom, text[pos + n]) {
                n += 1;
            }
            let min = if *q == Quant::Plus { 1 } else { 0 };
            (min..=n).rev().any(|k| match_here(rest, text, pos + k, end, budget))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Regex;

    fn m(p: &str, ere: bool, s: &str) -> bool {
        Regex::new(p, ere, false, false).unwrap().is_match(s)
    }

    #[test]
    fn basic_and_extended_expressions() {
        assert!(!m("oom", false, "\"OOMKilled\": true"));
        assert!(Regex::new("oom", false, false, true).unwrap().is_match("\"OOMKilled\": true"));
        assert!(m("^LISTEN", false, "LISTEN 0 511"));
        assert!(!m("^LISTEN", false, " LISTEN"));
        assert!(m("3000$", false, "127.0.0.1:3000"));
        assert!(m("a.c", false, "abc"));
        assert!(m("ab*c", false, "ac") && m("ab*c", false, "abbbc"));
        assert!(m("50[234]", false, "\" 504 "));
        assert!(!m("50[^234]", false, "504"));
        assert!(m("502\\|504", false, "x 504 y"));
        assert!(m("502|504", true, "x 504 y") && !m("502|504", false, "x 504 y"));
        assert!(m("ab+c", true, "abbc") && !m("ab+c", true, "ac"));
        assert!(m("ab\\+c", false, "abbc"));
        assert!(m("colou?r", true, "color"));
        assert!(Regex::new("[[:digit:]]\\{3\\}", false, false, false).is_err());
        assert!(m("[[:digit:]][[:digit:]]", false, "a 42"));
        assert!(m("\\.", false, "a.b") && !m("\\.", false, "ab"));
        assert!(m("*x", false, "a*x"));
        assert!(Regex::new("(a)", true, false, false).is_err());
        assert!(Regex::new("[abc", false, false, false).is_err());
        assert!(Regex::new("a.b", false, true, false).unwrap().is_match("xa.b") && !Regex::new("a.b", false, true, false).unwrap().is_match("axb"));
        assert!(m("", false, "anything"));
    }

    #[test]
    fn pathological_patterns_stay_bounded() {
        let r = Regex::new("a*a*a*a*a*a*a*a*a*a*b", false, false, false).unwrap();
        assert!(!r.is_match(&"a".repeat(2_000)));
    }
}
