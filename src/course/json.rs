//! Just enough JSON to read cargo's `--message-format json` and the course harness's
//! `--format json`, one value per line. A hand-written reader instead of serde: the front
//! door is what a learner builds first, and every dependency is paid for on the first run.

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Parses one JSON value (surrounding whitespace allowed); `None` if it is not JSON.
    pub fn parse(text: &str) -> Option<Json> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        (p.i == p.s.len()).then_some(v)
    }

    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at `path`, one key per object level.
    pub fn at(&self, path: &[&str]) -> Option<&Json> {
        path.iter().try_fold(self, |v, key| v.get(key))
    }

    /// The string, if this is one.
    pub fn str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn num(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The elements, if this is an array (else none).
    pub fn items(&self) -> &[Json] {
        match self {
            Json::Array(items) => items,
            _ => &[],
        }
    }

    /// Whether this is `true`.
    pub fn is_true(&self) -> bool {
        *self == Json::Bool(true)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, word: &str) -> bool {
        let end = self.i + word.len();
        if self.s.get(self.i..end) == Some(word.as_bytes()) {
            self.i = end;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        match *self.s.get(self.i)? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string().map(Json::String),
            b't' => self.eat("true").then_some(Json::Bool(true)),
            b'f' => self.eat("false").then_some(Json::Bool(false)),
            b'n' => self.eat("null").then_some(Json::Null),
            _ => self.number(),
        }
    }

    fn object(&mut self) -> Option<Json> {
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.eat("}") {
            return Some(Json::Object(members));
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.ws();
            if !self.eat(":") {
                return None;
            }
            members.push((key, self.value()?));
            self.ws();
            if self.eat("}") {
                return Some(Json::Object(members));
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    fn array(&mut self) -> Option<Json> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.eat("]") {
            return Some(Json::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.ws();
            if self.eat("]") {
                return Some(Json::Array(items));
            }
            if !self.eat(",") {
                return None;
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        if !self.eat("\"") {
            return None;
        }
        let mut out = String::new();
        loop {
            // Copy the run up to the next quote or backslash as it is (valid UTF-8 in, out).
            let start = self.i;
            while !matches!(*self.s.get(self.i)?, b'"' | b'\\') {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).ok()?);
            if self.eat("\"") {
                return Some(out);
            }
            self.i += 1; // the backslash
            let escaped = *self.s.get(self.i)?;
            self.i += 1;
            match escaped {
                b'n' => out.push('\n'),
                b't' => out.push('\t'),
                b'r' => out.push('\r'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'u' => out.push(self.unicode()?),
                other => out.push(char::from(other)),
            }
        }
    }

    /// The code point of a `\uXXXX` escape (the `\u` already read), pairs of surrogates
    /// included.
    fn unicode(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) && self.eat("\\u") {
            let second = self.hex4()?;
            let code = 0x10000 + ((first - 0xD800) << 10) + (second.checked_sub(0xDC00)?);
            return char::from_u32(code);
        }
        Some(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
        self.i += 4;
        u32::from_str_radix(digits, 16).ok()
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        text.parse().ok().map(Json::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_cargo_and_the_harness_write() {
        let line = r#"{"reason":"compiler-message","message":{"level":"error","spans":[{"file_name":"tests/../exercises/exercise_5.rs","line_start":31,"is_primary":true}],"rendered":"error: expected `;`\n --> x\n","code":null},"n":-1.5e2,"ok":true,"u":"caf\u00e9 \ud83d\ude00"}"#;
        let v = Json::parse(line).expect("valid JSON");
        assert_eq!(
            v.get("reason").and_then(Json::str),
            Some("compiler-message")
        );
        let span = &v.at(&["message", "spans"]).unwrap().items()[0];
        assert_eq!(span.get("line_start").and_then(Json::num), Some(31.0));
        assert!(span.get("is_primary").unwrap().is_true());
        assert_eq!(
            v.at(&["message", "rendered"]).and_then(Json::str),
            Some("error: expected `;`\n --> x\n")
        );
        assert_eq!(v.at(&["message", "code"]), Some(&Json::Null));
        assert_eq!(v.get("n").and_then(Json::num), Some(-150.0));
        assert_eq!(v.get("u").and_then(Json::str), Some("café 😀"));
        assert_eq!(
            Json::parse(r#"{ "type": "test", "event": "ok" } "#).map(|v| v.items().len()),
            Some(0)
        );
        for bad in ["", "{", r#"{"a" 1}"#, "[1,]", r#""open"#, "tru", "{} x"] {
            assert_eq!(Json::parse(bad), None, "{bad:?} is not JSON");
        }
    }
}
