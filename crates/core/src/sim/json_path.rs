//! Which field a `serde_json` error is about, found from the error's line and
//! column after the fact. Parsing runs on plain `serde_json` (no path
//! tracking on the happy path, which would double the deserialization code in
//! the wasm bundle); only a refused document is scanned again, by hand, up to
//! the error's position.
//!
//! The path is printed as `serde_path_to_error` printed it: `clients.retry.retry_on[0]`,
//! `.` for the document itself. A data error (wrong type, unknown field or
//! variant, a bad value) is positioned by `serde_json` just after what it
//! consumed: the value, the key (unknown field), or the object's closing brace
//! (missing field; a fault's own checks, see `Fault`'s `Deserialize`). A syntax
//! error points at the offending byte, which is not part of the path.

/// The path of the field `e` is about, in `text`, the document that produced it.
pub fn error_path(text: &str, e: &serde_json::Error) -> String {
    if e.line() == 0 {
        return ".".into();
    }
    let bytes = text.as_bytes();
    // serde_json's column is the byte offset from the start of its line.
    let line_start = if e.line() <= 1 {
        0
    } else {
        match bytes.iter().enumerate().filter(|(_, &b)| b == b'\n').nth(e.line() - 2) {
            Some((i, _)) => i + 1,
            None => return ".".into(),
        }
    };
    let mut end = (line_start + e.column()).min(bytes.len());
    if !e.is_data() {
        // Syntax and end-of-input errors point at the byte that is wrong.
        end = end.saturating_sub(1);
    }
    path_before(&bytes[..end])
}

enum Frame {
    /// An object and the member being read (from its key's opening quote to
    /// the `,` or `}` after its value).
    Object(Option<String>),
    /// An array and the element being read.
    Array(usize),
}

/// The path open after reading `json` (a prefix of a document).
fn path_before(json: &[u8]) -> String {
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'"' => {
                // A string: find its end (or the prefix's end), skipping escapes.
                let start = i;
                i += 1;
                while i < json.len() && json[i] != b'"' {
                    i += if json[i] == b'\\' { 2 } else { 1 };
                }
                let raw = &json[start..(i + 1).min(json.len())];
                if let Some(Frame::Object(member @ None)) = stack.last_mut() {
                    *member = Some(key_text(raw));
                }
            }
            b'{' => stack.push(Frame::Object(None)),
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object(member)) => *member = None,
                Some(Frame::Array(index)) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(index) => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
        }
    }
    if path.is_empty() {
        path.push('.');
    }
    path
}

/// A key as text: `raw` is the quoted JSON string (possibly cut short).
fn key_text(raw: &[u8]) -> String {
    let raw = String::from_utf8_lossy(raw);
    if let Ok(s) = serde_json::from_str::<String>(&raw) {
        return s;
    }
    raw.trim_start_matches('"').trim_end_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, end: usize) -> String {
        path_before(&text.as_bytes()[..end])
    }

    #[test]
    fn paths_of_prefixes() {
        let doc = r#"{"a":{"b":[1,{"c":2}]},"d":"x"}"#;
        assert_eq!(at(doc, 0), ".");
        assert_eq!(at(doc, 1), ".");
        assert_eq!(at(doc, 4), "a");
        assert_eq!(at(doc, 9), "a.b");
        assert_eq!(at(doc, 11), "a.b[0]");
        assert_eq!(at(doc, 12), "a.b[0]");
        assert_eq!(at(doc, 13), "a.b[1]");
        assert_eq!(at(doc, 14), "a.b[1]");
        assert_eq!(at(doc, 19), "a.b[1].c");
        assert_eq!(at(doc, 20), "a.b[1]");
        assert_eq!(at(doc, 21), "a.b");
        assert_eq!(at(doc, 22), "a");
        assert_eq!(at(doc, 23), ".");
        assert_eq!(at(doc, 30), "d");
        assert_eq!(at(doc, doc.len()), ".");
        // Escaped quotes in keys and strings.
        let doc = r#"{"a\"b":"}\"{","#;
        assert_eq!(at(doc, 8), "a\"b");
        assert_eq!(at(doc, 14), "a\"b");
        assert_eq!(at(doc, 15), ".");
    }

    fn path_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
        error_path(text, &serde_json::from_str::<T>(text).unwrap_err())
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        n: u32,
        #[serde(default)]
        list: Vec<Item>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        s: String,
    }

    #[test]
    fn paths_of_serde_json_errors() {
        assert_eq!(path_of::<Doc>(r#"{"n":"x"}"#), "n");
        assert_eq!(path_of::<Doc>(r#"{"n":1, "bogus" : 2}"#), "bogus");
        assert_eq!(path_of::<Doc>(r#"{"n":1,"list":[{"s":"a"},{}]}"#), "list[1]");
        assert_eq!(path_of::<Doc>(r#"{"n":1,"list":[{"s":"a"},{"s":{}}]}"#), "list[1].s");
        assert_eq!(path_of::<Doc>("{\n  \"n\": 1,\n  \"list\": [\n    {\"s\": 5}\n  ]\n}"), "list[0].s");
        assert_eq!(path_of::<Doc>(r#"{"n":}"#), "n");
        assert_eq!(path_of::<Doc>(r#"{"list":[]}"#), ".");
        assert_eq!(path_of::<Doc>("{"), ".");
    }
}
