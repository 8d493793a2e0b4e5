//! Just enough JSON, by hand: writing the grader's own files (`--json`, `--gradescope`) and
//! reading cargo's `--message-format=json` lines. serde would cost a fresh clone's first
//! build more than these two hundred lines do.

use std::fmt::Write as _;

/// Appends `s` to `out` as a JSON string literal, quotes included (RFC 8259: `"`, `\` and
/// every control character escaped; everything else, non-ASCII included, kept as UTF-8).
pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON object written field by field, in order.
pub(crate) struct Object {
    out: String,
    first: bool,
}

impl Object {
    pub(crate) fn new() -> Self {
        Object {
            out: String::from("{"),
            first: true,
        }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
        write_str(&mut self.out, key);
        self.out.push_str(": ");
    }

    pub(crate) fn str(mut self, key: &str, value: &str) -> Self {
        self.key(key);
        write_str(&mut self.out, value);
        self
    }

    pub(crate) fn opt_str(mut self, key: &str, value: Option<&str>) -> Self {
        self.key(key);
        match value {
            Some(v) => write_str(&mut self.out, v),
            None => self.out.push_str("null"),
        }
        self
    }

    /// A number; not finite values (which JSON cannot hold) are written as `null`.
    pub(crate) fn num(mut self, key: &str, value: f64) -> Self {
        self.key(key);
        if value.is_finite() {
            let _ = write!(self.out, "{value}");
        } else {
            self.out.push_str("null");
        }
        self
    }

    /// A value that is already JSON text (a nested array, say).
    pub(crate) fn raw(mut self, key: &str, json: &str) -> Self {
        self.key(key);
        self.out.push_str(json);
        self
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push('}');
        self.out
    }
}

/// `items` (each already JSON text) as a JSON array, one item per line.
pub(crate) fn array(items: &[String]) -> String {
    if items.is_empty() {
        return "[]".to_string();
    }
    let mut out = String::from("[\n");
    for (i, item) in items.iter().enumerate() {
        out.push_str("  ");
        out.push_str(item);
        if i + 1 < items.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push(']');
    out
}

/// A parsed JSON value (numbers kept as their text: we only compare and print them).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(String),
    Str(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_array(&self) -> &[Value] {
        match self {
            Value::Array(items) => items,
            _ => &[],
        }
    }
}

/// Parses one JSON text; `None` if it is not valid JSON (or has trailing text).
pub(crate) fn parse(text: &str) -> Option<Value> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

/// Deeper nesting than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &str) -> Option<()> {
        let end = self.i + lit.len();
        (self.s.get(self.i..end)? == lit.as_bytes()).then(|| self.i = end)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match *self.s.get(self.i)? {
            b'n' => self.eat("null").map(|_| Value::Null),
            b't' => self.eat("true").map(|_| Value::Bool(true)),
            b'f' => self.eat("false").map(|_| Value::Bool(false)),
            b'"' => self.string().map(Value::Str),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat("]").is_some() {
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(",").is_none() {
                        self.eat("]")?;
                        return Some(Value::Array(items));
                    }
                }
            }
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.eat("}").is_some() {
                    return Some(Value::Object(fields));
                }
                loop {
                    self.ws();
                    let key = self.string()?;
                    self.ws();
                    self.eat(":")?;
                    fields.push((key, self.value(depth + 1)?));
                    self.ws();
                    if self.eat(",").is_none() {
                        self.eat("}")?;
                        return Some(Value::Object(fields));
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let n = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                n.parse::<f64>().ok()?;
                Some(Value::Number(n.to_string()))
            }
            _ => None,
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(h, 16).ok()
    }

    fn string(&mut self) -> Option<String> {
        self.eat("\"")?;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'b' => '\u{08}',
                        b'f' => '\u{0c}',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                self.eat("\\u")?;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return None;
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b if b < 0x20 => return None,
                b => out.push(b),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> String {
        let mut out = String::new();
        write_str(&mut out, s);
        out
    }

    #[test]
    fn escapes_quotes_backslashes_and_every_control_character() {
        assert_eq!(lit(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(lit("l1\nl2\r\t"), r#""l1\nl2\r\t""#);
        assert_eq!(lit("\u{0}\u{1b}[31m\u{7f}"), r#""\u0000\u001b[31m\u007f""#);
        assert_eq!(lit("\u{08}\u{0c}"), r#""\b\f""#);
        // Non-ASCII stays as UTF-8 (valid JSON), including characters outside the BMP.
        assert_eq!(lit("é ─ 🦀"), "\"é ─ 🦀\"");
    }

    #[test]
    fn every_string_round_trips_through_the_parser() {
        let tricky = [
            "",
            "plain",
            "\"quoted\"",
            "back\\slash",
            "new\nline\r\ttab",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "ümlaut ─▶ 🦀",
            "</script>",
        ];
        for s in tricky {
            assert_eq!(parse(&lit(s)), Some(Value::Str(s.to_string())), "{s:?}");
        }
        // Every code point below 0x80, in one string.
        let all: String = (0u8..0x80).map(char::from).collect();
        assert_eq!(parse(&lit(&all)), Some(Value::Str(all.clone())));
    }

    #[test]
    fn objects_keep_field_order_and_write_null_and_numbers() {
        let o = Object::new()
            .str("submission", "bank")
            .opt_str("replay", None)
            .num("seconds", 1.5)
            .num("nan", f64::NAN)
            .raw("tests", "[]")
            .finish();
        assert_eq!(
            o,
            r#"{"submission": "bank", "replay": null, "seconds": 1.5, "nan": null, "tests": []}"#
        );
        let v = parse(&o).unwrap();
        assert_eq!(v.get("submission").and_then(Value::as_str), Some("bank"));
        assert_eq!(v.get("replay"), Some(&Value::Null));
        assert_eq!(v.get("seconds"), Some(&Value::Number("1.5".into())));
    }

    #[test]
    fn arrays_are_one_item_per_line() {
        assert_eq!(array(&[]), "[]");
        let a = array(&["1".into(), "{}".into()]);
        assert_eq!(a, "[\n  1,\n  {}\n]");
        assert_eq!(
            parse(&a),
            Some(Value::Array(vec![
                Value::Number("1".into()),
                Value::Object(vec![])
            ]))
        );
    }

    #[test]
    fn parses_a_cargo_artifact_line() {
        let line = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"synckit"},"filenames":["/t/libsynckit-1.rlib","/t/libsynckit-1.rmeta"],"fresh":true,"x":-1.5e3}"#;
        let v = parse(line).unwrap();
        assert_eq!(
            v.get("reason").and_then(Value::as_str),
            Some("compiler-artifact")
        );
        let names: Vec<&str> = v
            .get("filenames")
            .unwrap()
            .as_array()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(names, ["/t/libsynckit-1.rlib", "/t/libsynckit-1.rmeta"]);
        assert_eq!(v.get("fresh"), Some(&Value::Bool(true)));
        assert_eq!(
            v.get("target").and_then(|t| t.get("name")),
            Some(&Value::Str("synckit".into()))
        );
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "\"unterminated",
            "\"bad \\q escape\"",
            "\"raw\ncontrol\"",
            "tru",
            "1 2",
            "\"\\ud800\"",
            "-",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert_eq!(parse(&deep), None);
    }
}
