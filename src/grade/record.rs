//! The file a submission's process leaves for the grader: named fields, each written as
//! `name length\n` + exactly `length` bytes + `\n`, so a field may hold any text (a report,
//! a panic message with newlines) without quoting. The child replaces the whole file
//! (write, then rename) at every step, so a process killed mid-way leaves its last
//! complete record, never half of one.

use std::io;
use std::path::Path;

/// Named text fields, in the order they were set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Record {
    fields: Vec<(String, String)>,
}

impl Record {
    /// Sets `name` (replacing an earlier value). Names are single words.
    pub(crate) fn set(&mut self, name: &str, value: impl Into<String>) {
        debug_assert!(!name.is_empty() && !name.contains([' ', '\n']));
        let value = value.into();
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(field) => field.1 = value,
            None => self.fields.push((name.to_string(), value)),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in &self.fields {
            out.extend_from_slice(format!("{k} {}\n", v.len()).as_bytes());
            out.extend_from_slice(v.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// Reads back what [`encode`](Record::encode) wrote; stops at the first field that is
    /// not well formed (keeping the ones before it).
    pub(crate) fn decode(bytes: &[u8]) -> Record {
        let mut r = Record::default();
        let mut rest = bytes;
        while !rest.is_empty() {
            let Some(eol) = rest.iter().position(|&b| b == b'\n') else {
                break;
            };
            let Ok(header) = std::str::from_utf8(&rest[..eol]) else {
                break;
            };
            let Some((name, len)) = header.split_once(' ') else {
                break;
            };
            let Ok(len) = len.parse::<usize>() else { break };
            let body = &rest[eol + 1..];
            if body.len() < len + 1 || body[len] != b'\n' {
                break;
            }
            r.set(name, String::from_utf8_lossy(&body[..len]).into_owned());
            rest = &body[len + 1..];
        }
        r
    }

    /// Replaces the file at `path` with this record, atomically (a temporary file renamed).
    pub(crate) fn write_to(&self, path: &Path) -> io::Result<()> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.encode())?;
        std::fs::rename(&tmp, path)
    }

    /// The record at `path`, empty if there is none (the process died before writing).
    pub(crate) fn read_from(path: &Path) -> Record {
        std::fs::read(path)
            .map(|b| Record::decode(&b))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_round_trips() {
        let mut r = Record::default();
        r.set("verdict", "deadlock");
        r.set("report", "line 1\nline 2 has 5 13\n\n");
        r.set("empty", "");
        r.set("utf8", "─▶ 🦀");
        r.set("verdict", "inversion");
        let back = Record::decode(&r.encode());
        assert_eq!(back, r);
        assert_eq!(back.get("verdict"), Some("inversion"));
        assert_eq!(back.get("report"), Some("line 1\nline 2 has 5 13\n\n"));
        assert_eq!(back.get("missing"), None);
    }

    #[test]
    fn a_cut_record_keeps_its_complete_fields() {
        let mut r = Record::default();
        r.set("pid", "42");
        r.set("report", "a long report");
        let bytes = r.encode();
        for cut in 0..bytes.len() {
            let back = Record::decode(&bytes[..cut]);
            let whole_pid = cut >= "pid 2\n42\n".len();
            assert_eq!(back.get("pid").is_some(), whole_pid, "cut at {cut}");
            assert_eq!(back.get("report"), None, "cut at {cut}");
        }
        assert_eq!(Record::decode(b"garbage"), Record::default());
    }

    #[test]
    fn files_are_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("synckit-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("result");
        assert_eq!(Record::read_from(&path), Record::default());
        let mut r = Record::default();
        r.set("phase", "check 1 of 5");
        r.write_to(&path).unwrap();
        r.set("phase", "done");
        r.write_to(&path).unwrap();
        assert_eq!(Record::read_from(&path).get("phase"), Some("done"));
        assert!(!path.with_extension("tmp").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
