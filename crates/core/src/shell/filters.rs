//! Text filters for pipes: `grep` (GNU grep's basic and extended regular
//! expressions, without back-references) and `wc`. `head` and `tail` live
//! with the files they usually read (files.rs).

use std::cell::Cell;

use super::files::{self, Input};
use super::{Ctx, Res};

#[derive(Default)]
struct GrepOpts {
    icase: bool,
    invert: bool,
    count: bool,
    number: bool,
    ere: bool,
    fixed: bool,
    quiet: bool,
    only: bool,
    word: bool,
    line: bool,
    names: Option<bool>,
    after: usize,
    before: usize,
}

fn usage_error(msg: &str) -> Res {
    Res::with(String::new(), format!("{msg}Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n"), 2)
}

fn context_arg(flag: char, v: Option<String>) -> Result<usize, Res> {
    match v {
        Some(v) => v.parse().map_err(|_| Res::with(String::new(), format!("grep: {v}: invalid context length argument\n"), 2)),
        None => Err(usage_error(&format!("grep: option requires an argument -- '{flag}'\n"))),
    }
}

/// `grep [-i] [-v] [-c] [-n] [-o] [-w] [-x] [-q] [-E] [-F] [-A N] [-B N]
/// [-C N] [-h|-H] [-e] PATTERN [FILE...]`.
pub(super) fn grep(ctx: &mut Ctx<'_>, args: &[String], stdin: Option<String>) -> Res {
    let mut o = GrepOpts::default();
    let mut pattern: Option<String> = None;
    let mut names: Vec<String> = Vec::new();
    let mut it = args.iter();
    let mut only_operands = false;
    while let Some(a) = it.next() {
        if only_operands || !a.starts_with('-') || a == "-" {
            if pattern.is_none() {
                pattern = Some(a.clone());
            } else {
                names.push(a.clone());
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
                "only-matching" => o.only = true,
                "word-regexp" => o.word = true,
                "line-regexp" => o.line = true,
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
            let f = flags[i];
            // Options with a value take the rest of the word, or the next word.
            if matches!(f, 'e' | 'A' | 'B' | 'C') {
                let rest: String = flags[i + 1..].iter().collect();
                let v = if rest.is_empty() { it.next().cloned() } else { Some(rest) };
                match f {
                    'e' => match v {
                        Some(p) => {
                            if let Some(old) = pattern.replace(p) {
                                names.insert(0, old);
                            }
                        }
                        None => return usage_error("grep: option requires an argument -- 'e'\n"),
                    },
                    'A' => match context_arg(f, v) {
                        Ok(n) => o.after = n,
                        Err(r) => return r,
                    },
                    'B' => match context_arg(f, v) {
                        Ok(n) => o.before = n,
                        Err(r) => return r,
                    },
                    _ => match context_arg(f, v) {
                        Ok(n) => {
                            o.after = n;
                            o.before = n;
                        }
                        Err(r) => return r,
                    },
                }
                break;
            }
            match f {
                'i' | 'y' => o.icase = true,
                'v' => o.invert = true,
                'c' => o.count = true,
                'n' => o.number = true,
                'E' => o.ere = true,
                'F' => o.fixed = true,
                'G' => o.ere = false,
                'o' => o.only = true,
                'w' => o.word = true,
                'x' => o.line = true,
                'h' => o.names = Some(false),
                'H' => o.names = Some(true),
                'q' => o.quiet = true,
                's' => {}
                'r' | 'R' | 'l' | 'L' | 'm' | 'P' | 'z' => {
                    return Res::with(String::new(), format!("grep: option -{f} is not simulated in this terminal\n"), 2)
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
    let inputs: Vec<(String, Result<String, String>)> = if names.is_empty() {
        match stdin {
            Some(s) => vec![("(standard input)".to_string(), Ok(s))],
            None => return Res::with(String::new(), "grep: reading the keyboard is not simulated here: pipe into grep or name a file\n".into(), 2),
        }
    } else {
        names
            .iter()
            .map(|f| {
                let r = match files::read(ctx, f) {
                    Input::Text(t) => Ok(t),
                    Input::Missing => Err(format!("grep: {f}: No such file or directory\n")),
                    Input::Directory => Err(format!("grep: {f}: Is a directory\n")),
                    Input::Socket => Err(format!("grep: {f}: No such device or address\n")),
                    Input::NotModelled => Err(format!("grep: {f}: {}\n", files::not_modelled(ctx))),
                };
                (f.clone(), r)
            })
            .collect()
    };
    let show_names = o.names.unwrap_or(inputs.len() > 1);
    let mut out = String::new();
    let mut err = String::new();
    let mut any = false;
    let mut trouble = false;
    let context = !o.count && !o.only && (o.after > 0 || o.before > 0);
    for (name, text) in inputs {
        let text = match text {
            Ok(t) => t,
            Err(e) => {
                err.push_str(&e);
                trouble = true;
                continue;
            }
        };
        let lines: Vec<&str> = text.lines().collect();
        let hits: Vec<bool> = lines.iter().map(|l| re.matches(l, o.word, o.line) != o.invert).collect();
        let n = hits.iter().filter(|h| **h).count();
        any |= n > 0;
        if o.quiet {
            continue;
        }
        if o.count {
            if show_names {
                out.push_str(&format!("{name}:"));
            }
            out.push_str(&format!("{n}\n"));
            continue;
        }
        let prefix = |i: usize, sep: char| {
            let mut p = String::new();
            if show_names {
                p.push_str(&name);
                p.push(sep);
            }
            if o.number {
                p.push_str(&format!("{}{sep}", i + 1));
            }
            p
        };
        if o.only && !o.invert {
            for (i, l) in lines.iter().enumerate() {
                for m in re.find_all(l, o.word, o.line) {
                    out.push_str(&prefix(i, ':'));
                    out.push_str(&m);
                    out.push('\n');
                }
            }
            continue;
        }
        // Lines to print: the hits, and their context.
        let mut last_printed: Option<usize> = None;
        for i in 0..lines.len() {
            let near_hit = hits[i]
                || (context && (i.saturating_sub(o.after)..i).any(|j| hits[j]))
                || (context && (i + 1..=i.saturating_add(o.before).min(lines.len().saturating_sub(1))).any(|j| hits[j]));
            if !near_hit {
                continue;
            }
            if context && last_printed.is_some_and(|p| i > p + 1) {
                out.push_str("--\n");
            }
            out.push_str(&prefix(i, if hits[i] { ':' } else { '-' }));
            out.push_str(lines[i]);
            out.push('\n');
            last_printed = Some(i);
        }
    }
    if re.gave_up() {
        err.push_str("grep: the pattern needs more backtracking than this terminal allows; some lines may be missing\n");
        trouble = true;
    }
    let status = if any && !re.gave_up() { 0 } else if trouble { 2 } else { 1 };
    Res::with(out, err, status)
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
                        x => return Res::with(String::new(), format!("wc: invalid option -- '{x}'\nTry 'wc --help' for more information.\n"), 1),
                    }
                }
            }
            s if s.starts_with("--") => return Res::with(String::new(), format!("wc: unrecognized option '{s}'\nTry 'wc --help' for more information.\n"), 1),
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
            Input::Missing => err.push_str(&format!("wc: {f}: No such file or directory\n")),
            Input::Socket => err.push_str(&format!("wc: {f}: No such device or address\n")),
            Input::NotModelled => err.push_str(&format!("wc: {f}: {}\n", files::not_modelled(ctx))),
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

/// A regular-expression matcher for GNU grep's BRE and ERE: alternation
/// (`\|` in BRE, `|` in ERE), groups (`\(…\)` / `(…)`), `^`, `$`, `.`,
/// bracket expressions (ranges, negation, `[:digit:]` and friends), `*`,
/// `\+`/`\?`/`\{n,m\}` (BRE) or `+`/`?`/`{n,m}` (ERE), and `\w`, `\W`,
/// `\s`, `\S`. No back-references. The search backtracks within a step
/// budget, so no pattern can hang the page.
#[derive(Debug)]
pub(super) struct Regex {
    root: Alt,
    icase: bool,
    /// Steps left for this grep (a search backtracks at most this much).
    steps: Cell<u32>,
    /// Nested continuations now (bounded: the page's stack is small).
    depth: Cell<u32>,
    /// A search ran out of steps or depth: its answer is not reliable.
    over: Cell<bool>,
}

#[derive(Debug)]
struct Alt(Vec<Vec<Piece>>);

#[derive(Debug)]
struct Piece {
    node: Node,
    min: u32,
    max: Option<u32>,
}

#[derive(Debug)]
enum Node {
    Char(char),
    Any,
    Class { negated: bool, items: Vec<ClassItem> },
    Start,
    End,
    Group(Alt),
}

#[derive(Debug)]
enum ClassItem {
    Char(char),
    Range(char, char),
    Named(fn(char) -> bool),
}

/// Backtracking steps one grep may take, in all.
const STEPS: u32 = 2_000_000;
/// Nested continuations allowed (about three per pattern piece).
const DEPTH: u32 = 1_500;
/// Longest pattern taken.
const MAX_PATTERN: usize = 512;

impl Node {
    /// For a node that matches exactly one character: whether it takes `c`.
    fn one(&self, c: char) -> Option<bool> {
        match self {
            Node::Char(x) => Some(*x == c),
            Node::Any => Some(true),
            Node::Class { negated, items } => Some(
                items.iter().any(|it| match it {
                    ClassItem::Char(x) => *x == c,
                    ClassItem::Range(a, b) => (*a..=*b).contains(&c),
                    ClassItem::Named(f) => f(c),
                }) != *negated,
            ),
            _ => None,
        }
    }
}

impl Regex {
    pub(super) fn new(pattern: &str, ere: bool, fixed: bool, icase: bool) -> Result<Regex, String> {
        if pattern.chars().count() > MAX_PATTERN {
            return Err(format!("patterns longer than {MAX_PATTERN} characters are not simulated in this terminal"));
        }
        let fold = |c: char| if icase { c.to_lowercase().next().unwrap_or(c) } else { c };
        let root = if fixed {
            Alt(pattern.split('\n').map(|p| p.chars().map(|c| Piece { node: Node::Char(fold(c)), min: 1, max: Some(1) }).collect()).collect())
        } else {
            let chars: Vec<char> = pattern.chars().map(fold).collect();
            let mut p = Parser { chars: &chars, i: 0, ere, depth: 0 };
            let root = p.alt()?;
            if p.i < chars.len() {
                return Err("Unmatched ) or \\)".into());
            }
            root
        };
        Ok(Regex { root, icase, steps: Cell::new(STEPS), depth: Cell::new(0), over: Cell::new(false) })
    }

    /// Whether a search gave up (too many steps, too deep).
    pub(super) fn gave_up(&self) -> bool {
        self.over.get()
    }

    fn text(&self, line: &str) -> Vec<char> {
        if self.icase {
            line.chars().map(|c| c.to_lowercase().next().unwrap_or(c)).collect()
        } else {
            line.chars().collect()
        }
    }

    /// Whether the line has a match (a whole word with `word`, the whole
    /// line with `whole`).
    pub(super) fn matches(&self, line: &str, word: bool, whole: bool) -> bool {
        let t = self.text(line);
        (0..=t.len()).any(|s| (!whole || s == 0) && self.alt(&self.root, &t, s, &mut |e| accept(&t, s, e, word, whole)))
    }

    /// The matched parts of a line, leftmost-longest, as `grep -o` prints them.
    pub(super) fn find_all(&self, line: &str, word: bool, whole: bool) -> Vec<String> {
        let t = self.text(line);
        let original: Vec<char> = line.chars().collect();
        let mut out = Vec::new();
        let mut s = 0;
        while s <= t.len() {
            let mut best: Option<usize> = None;
            self.alt(&self.root, &t, s, &mut |e| {
                if accept(&t, s, e, word, whole) && best.is_none_or(|b| e > b) {
                    best = Some(e);
                }
                false
            });
            match best {
                Some(e) if e > s => {
                    out.push(original[s..e.min(original.len())].iter().collect());
                    s = e;
                }
                _ => s += 1,
            }
        }
        out
    }

    /// One step of the budget; false (and `over`) once it is spent.
    fn tick(&self) -> bool {
        match self.steps.get() {
            0 => {
                self.over.set(true);
                false
            }
            n => {
                self.steps.set(n - 1);
                true
            }
        }
    }

    /// Calls the continuation one level deeper, unless that is too deep.
    fn deeper(&self, k: &mut dyn FnMut(usize) -> bool, j: usize) -> bool {
        let d = self.depth.get();
        if d >= DEPTH {
            self.over.set(true);
            return false;
        }
        self.depth.set(d + 1);
        let r = k(j);
        self.depth.set(d);
        r
    }

    fn alt(&self, alt: &Alt, t: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        alt.0.iter().any(|seq| self.seq(seq, t, i, k))
    }

    fn seq(&self, seq: &[Piece], t: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        match seq.split_first() {
            None => k(i),
            Some((p, rest)) => self.piece(p, 0, t, i, &mut |j| self.seq(rest, t, j, k)),
        }
    }

    /// A piece repeated greedily, `count` repetitions matched so far.
    fn piece(&self, p: &Piece, count: u32, t: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
        if !self.tick() {
            return false;
        }
        if count == 0 && p.node.one(' ').is_some() {
            // One character per repetition: count them, then back off.
            let max = p.max.map(|m| m as usize).unwrap_or(usize::MAX);
            let mut n = 0;
            while n < max && i + n < t.len() && p.node.one(t[i + n]) == Some(true) {
                n += 1;
            }
            let min = p.min as usize;
            if n < min {
                return false;
            }
            for j in (min..=n).rev() {
                if !self.tick() {
                    return false;
                }
                if self.deeper(k, i + j) {
                    return true;
                }
            }
            return false;
        }
        match &p.node {
            Node::Start => return (i == 0 || p.min == 0) && self.deeper(k, i),
            Node::End => return (i == t.len() || p.min == 0) && self.deeper(k, i),
            _ => {}
        }
        let Node::Group(inner) = &p.node else { return false };
        if p.max.is_none_or(|m| count < m)
            && self.alt(inner, t, i, &mut |j| {
                // An empty repetition would loop for ever: it counts once.
                if j == i && count >= p.min {
                    false
                } else {
                    let d = self.depth.get();
                    if d >= DEPTH {
                        self.over.set(true);
                        return false;
                    }
                    self.depth.set(d + 1);
                    let r = self.piece(p, count + 1, t, j, k);
                    self.depth.set(d);
                    r
                }
            })
        {
            return true;
        }
        count >= p.min && self.deeper(k, i)
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn accept(t: &[char], s: usize, e: usize, word: bool, whole: bool) -> bool {
    if whole && (s != 0 || e != t.len()) {
        return false;
    }
    if word {
        let before = s == 0 || !is_word(t[s - 1]);
        let after = e >= t.len() || !is_word(t[e]);
        return before && after && e > s;
    }
    true
}

struct Parser<'a> {
    chars: &'a [char],
    i: usize,
    ere: bool,
    depth: u32,
}

impl Parser<'_> {
    fn peek(&self, n: usize) -> Option<char> {
        self.chars.get(self.i + n).copied()
    }

    fn at_alt_bar(&self) -> bool {
        if self.ere { self.peek(0) == Some('|') } else { self.peek(0) == Some('\\') && self.peek(1) == Some('|') }
    }

    fn at_close(&self) -> bool {
        self.depth > 0 && if self.ere { self.peek(0) == Some(')') } else { self.peek(0) == Some('\\') && self.peek(1) == Some(')') }
    }

    fn alt(&mut self) -> Result<Alt, String> {
        let mut seqs = vec![self.seq()?];
        while self.at_alt_bar() {
            self.i += if self.ere { 1 } else { 2 };
            seqs.push(self.seq()?);
        }
        Ok(Alt(seqs))
    }

    fn seq(&mut self) -> Result<Vec<Piece>, String> {
        let mut seq: Vec<Piece> = Vec::new();
        while self.i < self.chars.len() && !self.at_alt_bar() && !self.at_close() {
            let c = self.chars[self.i];
            // Quantifiers apply to the previous piece.
            if let Some((min, max, used)) = self.quantifier(seq.is_empty())? {
                self.i += used;
                match seq.last_mut() {
                    Some(last) if !matches!(last.node, Node::Start) => {
                        // `a**`, `a+*`: a repeated repetition is a star.
                        if last.min == 1 && last.max == Some(1) {
                            last.min = min;
                            last.max = max;
                        } else {
                            last.min = last.min.min(min);
                            last.max = None;
                        }
                    }
                    _ => seq.push(Piece { node: Node::Char(c), min: 1, max: Some(1) }),
                }
                continue;
            }
            let node = match c {
                '^' if self.ere || seq.is_empty() => {
                    self.i += 1;
                    Node::Start
                }
                '$' if self.ere || self.i + 1 == self.chars.len() || self.at_end_of_seq(1) => {
                    self.i += 1;
                    Node::End
                }
                '.' => {
                    self.i += 1;
                    Node::Any
                }
                '[' => self.class()?,
                '(' if self.ere => {
                    self.i += 1;
                    self.group()?
                }
                ')' if self.ere => return Err("Unmatched ) or \\)".into()),
                '\\' => {
                    let Some(n) = self.peek(1) else { return Err("Trailing backslash".into()) };
                    self.i += 2;
                    match n {
                        '(' if !self.ere => self.group()?,
                        ')' if !self.ere => return Err("Unmatched ) or \\)".into()),
                        '1'..='9' => return Err("back-references are not simulated in this terminal's grep".into()),
                        'w' => Node::Class { negated: false, items: vec![ClassItem::Named(is_word)] },
                        'W' => Node::Class { negated: true, items: vec![ClassItem::Named(is_word)] },
                        's' => Node::Class { negated: false, items: vec![ClassItem::Named(char::is_whitespace)] },
                        'S' => Node::Class { negated: true, items: vec![ClassItem::Named(char::is_whitespace)] },
                        'b' | 'B' | '<' | '>' => return Err(format!("\\{n} is not simulated in this terminal's grep (try -w)")),
                        other => Node::Char(other),
                    }
                }
                other => {
                    self.i += 1;
                    Node::Char(other)
                }
            };
            seq.push(Piece { node, min: 1, max: Some(1) });
        }
        Ok(seq)
    }

    /// After a `$` at offset `n`: the end of the pattern, a `\)` or a `\|`.
    fn at_end_of_seq(&self, n: usize) -> bool {
        self.peek(n) == Some('\\') && matches!(self.peek(n + 1), Some(')') | Some('|'))
    }

    fn group(&mut self) -> Result<Node, String> {
        if self.depth >= 32 {
            return Err("groups nested too deeply".into());
        }
        self.depth += 1;
        let inner = self.alt()?;
        self.depth -= 1;
        let closed = if self.ere { self.peek(0) == Some(')') } else { self.peek(0) == Some('\\') && self.peek(1) == Some(')') };
        if !closed {
            return Err("Unmatched ( or \\(".into());
        }
        self.i += if self.ere { 1 } else { 2 };
        Ok(Node::Group(inner))
    }

    /// A quantifier here: (min, max, characters used).
    fn quantifier(&self, at_start: bool) -> Result<Option<(u32, Option<u32>, usize)>, String> {
        let c = self.peek(0);
        match (c, self.ere) {
            (Some('*'), _) if !at_start || self.ere => Ok(Some((0, None, 1))),
            (Some('+'), true) => Ok(Some((1, None, 1))),
            (Some('?'), true) => Ok(Some((0, Some(1), 1))),
            (Some('{'), true) => self.interval(1),
            (Some('\\'), false) => match self.peek(1) {
                Some('+') => Ok(Some((1, None, 2))),
                Some('?') => Ok(Some((0, Some(1), 2))),
                Some('{') => self.interval(2),
                _ => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// `{n}`, `{n,}`, `{n,m}` (`\{…\}` in BRE) starting after `skip` chars.
    fn interval(&self, skip: usize) -> Result<Option<(u32, Option<u32>, usize)>, String> {
        let close: &[char] = if self.ere { &['}'] } else { &['\\', '}'] };
        let rest = &self.chars[(self.i + skip).min(self.chars.len())..];
        let Some(end) = (0..rest.len()).find(|&j| rest[j..].starts_with(close)) else {
            // ERE: a '{' that starts no interval is literal.
            return if self.ere { Ok(None) } else { Err("Unmatched \\{".into()) };
        };
        let body: String = rest[..end].iter().collect();
        let parse = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n <= 1_000);
        let (min, max) = match body.split_once(',') {
            None => match parse(&body) {
                Some(n) => (n, Some(n)),
                None => return if self.ere { Ok(None) } else { Err("Invalid content of \\{\\}".into()) },
            },
            Some((a, b)) => {
                let min = if a.is_empty() { Some(0) } else { parse(a) };
                let max = if b.is_empty() { None } else { Some(parse(b)) };
                match (min, max) {
                    (Some(m), None) => (m, None),
                    (Some(m), Some(Some(x))) if x >= m => (m, Some(x)),
                    _ => return Err("Invalid content of \\{\\}".into()),
                }
            }
        };
        Ok(Some((min, max, skip + end + close.len())))
    }

    fn class(&mut self) -> Result<Node, String> {
        let unmatched = || "Unmatched [, [^, [:, [., or [=".to_string();
        let mut i = self.i + 1;
        let mut negated = false;
        if self.chars.get(i) == Some(&'^') {
            negated = true;
            i += 1;
        }
        let mut items = Vec::new();
        let mut first = true;
        loop {
            let Some(&c) = self.chars.get(i) else { return Err(unmatched()) };
            if c == ']' && !first {
                i += 1;
                break;
            }
            first = false;
            if c == '[' && self.chars.get(i + 1) == Some(&':') {
                let rest: String = self.chars[i + 2..].iter().collect();
                let Some(end) = rest.find(":]") else { return Err(unmatched()) };
                let f: fn(char) -> bool = match &rest[..end] {
                    "digit" => |c| c.is_ascii_digit(),
                    "alpha" => char::is_alphabetic,
                    "alnum" => char::is_alphanumeric,
                    "space" => char::is_whitespace,
                    "upper" => char::is_uppercase,
                    "lower" => char::is_lowercase,
                    "punct" => |c| c.is_ascii_punctuation(),
                    "xdigit" => |c| c.is_ascii_hexdigit(),
                    "blank" => |c| c == ' ' || c == '\t',
                    _ => return Err("Invalid character class name".into()),
                };
                items.push(ClassItem::Named(f));
                i += 2 + rest[..end].chars().count() + 2;
                continue;
            }
            if self.chars.get(i + 1) == Some(&'-') && self.chars.get(i + 2).is_some_and(|&e| e != ']') {
                let e = self.chars[i + 2];
                if e < c {
                    return Err("Invalid range end".into());
                }
                items.push(ClassItem::Range(c, e));
                i += 3;
                continue;
            }
            items.push(ClassItem::Char(c));
            i += 1;
        }
        self.i = i;
        Ok(Node::Class { negated, items })
    }
}

#[cfg(test)]
mod tests {
    use super::Regex;

    fn m(p: &str, ere: bool, s: &str) -> bool {
        Regex::new(p, ere, false, false).unwrap().matches(s, false, false)
    }

    #[test]
    fn basic_and_extended_expressions() {
        assert!(!m("oom", false, "\"OOMKilled\": true"));
        assert!(Regex::new("oom", false, false, true).unwrap().matches("\"OOMKilled\": true", false, false));
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
        assert!(m(":(80|3000) ", true, "0.0.0.0:80 x") && m(":(80|3000) ", true, "1:3000 y") && !m(":(80|3000) ", true, ":8080 "));
        assert!(m("\\(ab\\)*c$", false, "xababc"));
        assert!(m("[[:digit:]]\\{3\\}", false, "a 502") && !m("[[:digit:]]\\{3\\}", false, "a 50"));
        assert!(m("x{2,}", true, "axxb") && !m("x{2,}", true, "axb"));
        assert!(m("a{b", true, "a{b"), "a brace that starts no interval is literal in ERE");
        assert!(m("\\.", false, "a.b") && !m("\\.", false, "ab"));
        assert!(m("*x", false, "a*x"));
        assert!(m("(a|)b", true, "b"));
        assert!(Regex::new("(a", true, false, false).is_err());
        assert!(Regex::new("a)", true, false, false).is_err());
        assert!(Regex::new("[abc", false, false, false).is_err());
        assert!(Regex::new("\\(a\\)\\1", false, false, false).is_err());
        let f = Regex::new("a.b", false, true, false).unwrap();
        assert!(f.matches("xa.b", false, false) && !f.matches("axb", false, false));
        assert!(m("", false, "anything"));
    }

    #[test]
    fn words_lines_and_parts() {
        let r = Regex::new("oom", false, false, true).unwrap();
        assert!(!r.matches("\"OOMKilled\": true", true, false));
        assert!(r.matches("an OOM kill", true, false));
        assert!(Regex::new("ab", false, false, false).unwrap().matches("ab", false, true));
        assert!(!Regex::new("ab", false, false, false).unwrap().matches("abc", false, true));
        let parts = Regex::new("[0-9]+", true, false, false).unwrap().find_all("a 502 b 13", false, false);
        assert_eq!(parts, vec!["502", "13"]);
        let parts = Regex::new("oom", false, false, true).unwrap().find_all("OOMKilled oom", false, false);
        assert_eq!(parts, vec!["OOM", "oom"]);
    }

    #[test]
    fn pathological_patterns_stay_bounded() {
        let r = Regex::new("a*a*a*a*a*a*a*a*a*a*b", false, false, false).unwrap();
        assert!(!r.matches(&"a".repeat(2_000), false, false));
        let r = Regex::new("((a*)*)*b", true, false, false).unwrap();
        assert!(!r.matches(&"a".repeat(500), false, false));
        // A long line and a group repeated along it: bounded depth, no overflow.
        let r = Regex::new("(ab)*c", true, false, false).unwrap();
        assert!(!r.matches(&"ab".repeat(100_000), false, false));
        assert!(r.gave_up());
        // Plain searches in a long line stay cheap and exact.
        let r = Regex::new("Linus", false, false, false).unwrap();
        assert!(r.matches(&format!("{}Linus", "x".repeat(100_000)), false, false));
        assert!(!r.gave_up());
        assert!(Regex::new(&"a".repeat(600), false, false, false).is_err());
    }
}
