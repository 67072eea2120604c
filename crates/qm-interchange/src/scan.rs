//! The fast reader of a line: a byte scanner for the plain spelling that writers (ours
//! included) use, filling the same [`RawRecord`] that the `serde_json` reader fills.
//!
//! It takes: an object of known, distinct keys without escapes, whose values are strings
//! without escapes, unsigned integers (no fraction, no exponent, no leading zero, within `u64`),
//! `true`, `false`, or (for the array-of-strings fields such as `serials`) an array of such
//! strings, with any JSON whitespace between tokens. On anything else (escapes, `null`,
//! negative numbers, floats, the raw fields `lat`, `lon` and the nested objects, duplicate or
//! unknown keys, bad syntax) it gives up and returns `false`, and the caller starts over with
//! `serde_json`, which also words the error.
//!
//! Invariant: whenever `scan` returns `true`, `RawRecord` holds exactly what the `serde_json`
//! reader would have put there, so the judging, and so every result, is the same. A property
//! test compares the two readers on valid, mangled and random lines.

use std::borrow::Cow;

use qm_core::limits::ARRAY_LEN_MAX;

use crate::read::{RawRecord, Value};
use crate::schema::{Field, Shape};

/// Reads `line` into `raw` if it is in the plain spelling; `false` (with `raw` partly filled,
/// to be thrown away) otherwise.
pub(crate) fn scan<'de>(line: &'de str, raw: &mut RawRecord<'de>) -> bool {
    let mut s = Scanner {
        line,
        b: line.as_bytes(),
        i: 0,
    };
    s.read_object(raw).is_some()
}

struct Scanner<'de> {
    line: &'de str,
    /// `line` as bytes.
    b: &'de [u8],
    /// The next byte to read.
    i: usize,
}

impl<'de> Scanner<'de> {
    /// The whole line: `{`, members, `}`, and nothing but whitespace after.
    fn read_object(&mut self, raw: &mut RawRecord<'de>) -> Option<()> {
        self.skip_ws();
        self.eat(b'{')?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
        } else {
            let mut position = 0u32;
            loop {
                let field = Field::from_key(self.read_str()?)?;
                if raw.present.contains(field) {
                    return None;
                }
                self.skip_ws();
                self.eat(b':')?;
                self.skip_ws();
                position += 1;
                *raw.slot(field, position) = Some(match field.shape() {
                    Shape::Scalar => self.read_scalar()?,
                    Shape::Strings => self.read_strings()?,
                    Shape::Raw => return None,
                });
                self.skip_ws();
                match self.peek()? {
                    b',' => {
                        self.i += 1;
                        self.skip_ws();
                    }
                    b'}' => {
                        self.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.skip_ws();
        (self.i == self.b.len()).then_some(())
    }

    fn read_scalar(&mut self) -> Option<Value<'de>> {
        match self.peek()? {
            b'"' => Some(Value::Str(Cow::Borrowed(self.read_str()?))),
            b't' => self.eat_word(b"true").map(|()| Value::Bool(true)),
            b'f' => self.eat_word(b"false").map(|()| Value::Bool(false)),
            b'0'..=b'9' => self.read_u64().map(Value::UInt),
            _ => None,
        }
    }

    /// `[` plain strings separated by commas `]`; as the `serde_json` reader does, at most
    /// `ARRAY_LEN_MAX` + 1 elements kept.
    fn read_strings(&mut self) -> Option<Value<'de>> {
        self.eat(b'[')?;
        self.skip_ws();
        let mut strings = Vec::new();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Some(Value::Elements(strings));
        }
        loop {
            let s = self.read_str()?;
            if strings.len() <= ARRAY_LEN_MAX {
                strings.push(Value::Str(Cow::Borrowed(s)));
            }
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.i += 1;
                    self.skip_ws();
                }
                b']' => {
                    self.i += 1;
                    return Some(Value::Elements(strings));
                }
                _ => return None,
            }
        }
    }

    /// A string without escapes or control characters, borrowed from the line.
    fn read_str(&mut self) -> Option<&'de str> {
        self.eat(b'"')?;
        let start = self.i;
        let end = start + string_len(&self.b[start..])?;
        if self.b[end] != b'"' {
            return None;
        }
        self.i = end + 1;
        // Both ends are at ASCII quotes, so on character boundaries.
        self.line.get(start..end)
    }

    /// Digits with no leading zero, within `u64`, not followed by a fraction or an exponent.
    fn read_u64(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v = 0u64;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
            self.i += 1;
        }
        let leading_zero = self.b[start] == b'0' && self.i - start > 1;
        let more = matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        (!leading_zero && !more).then_some(v)
    }

    fn eat_word(&mut self, word: &[u8]) -> Option<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// JSON whitespace: space, tab, line feed, carriage return.
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }
}

/// The index of the first `"`, `\\` or control character of `b`, eight bytes at a time.
///
/// Per eight-byte word, `(x - 0x01..) & !x & 0x80..` flags the bytes that are zero, exactly up
/// to and including the first one (a borrow only disturbs bytes above it), so the lowest flag
/// of the three tests together is the first byte that ends or breaks a plain string.
fn string_len(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in chunks.by_ref() {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let quote = x ^ (ONES * b'"' as u64);
        let backslash = x ^ (ONES * b'\\' as u64);
        let flags = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let flags = flags & HIGHS;
        if flags != 0 {
            return Some(at + (flags.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = chunks.remainder();
    rest.iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .map(|i| at + i)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::read::{parse_record, parse_record_with_serde};

    /// Lines the scanner takes, or nearly takes.
    const BASES: &[&str] = &[
        r#"{"type":"movement","id":"m1","time":"2025-07-04T12:00:00Z","item":"rifle","qty":2,"from":"d1","to":"u1","serials":["SN-1","SN-2"],"kind":"issue"}"#,
        r#"{"type":"movement","id":"m2","time":"2025-07-04","item":"155mm","qty":120,"from":"d1","to":"u1","lot":"L-7","transfer":"t","note":"é"}"#,
        r#" { "type" : "floor" , "item" : "i" , "org" : "A" , "min_qty" : 0 , "time" : "2025-01-01T00:00:00+01:00" } "#,
        r#"{"type":"org","id":"A","name":"a","kind":"donor"}"#,
        r#"{"type":"item","code":"c","name":"C","category":"x","tracking":"bulk","sensitive":true,"inventory_interval_days":30}"#,
        r#"{"type":"holder","id":"h","name":"H","org":"A","kind":"depot","country":"UA"}"#,
        r#"{"type":"pause","id":"p","time":"2025-01-01","reason":"r","by":"b","items":["c","d"],"categories":[],"review_by":"2025-02-01"}"#,
        r#"{"type":"inventory","id":"in","time":"2025-01-01","holder":"h","by":"M","serials_seen":["S1","S2"]}"#,
        r#"{"type":"resume","id":"rs","time":"2025-01-02","pause":"p","reason":"r","by":"b"}"#,
        r#"{"type":"production","id":"pr","item":"c","to":"src","qty_per_month":100,"from_time":"2025-01-01","to_time":"2024-01-01","partner":"B"}"#,
        r#"{"type":"cancel","id":"x","time":"2025-01-01","transfer":"t","qty":1,"reason":"r","by":"b"}"#,
        r#"{}"#,
    ];

    /// Characters that make or break JSON.
    const ALPHABET: &[char] = &[
        '{', '}', '[', ']', '"', ':', ',', '\\', ' ', '\t', '\n', '0', '1', '9', '-', '.', 'e',
        'E', '+', 't', 'f', 'n', 'u', 'l', 'r', 's', 'a', 'x', '\u{1}', 'é',
    ];

    fn mangled() -> impl Strategy<Value = String> {
        mangled_from(BASES)
    }

    fn mangled_from(bases: &'static [&'static str]) -> impl Strategy<Value = String> {
        let edit = (0usize..1000, 0usize..3, proptest::sample::select(ALPHABET));
        (
            proptest::sample::select(bases),
            proptest::collection::vec(edit, 0..4),
        )
            .prop_map(|(base, edits)| {
                let mut chars: Vec<char> = base.chars().collect();
                for (at, op, c) in edits {
                    let at = at % (chars.len() + 1);
                    match op {
                        0 => chars.insert(at, c),
                        1 if at < chars.len() => {
                            chars.remove(at);
                        }
                        _ if at < chars.len() => chars[at] = c,
                        _ => chars.push(c),
                    }
                }
                chars.into_iter().collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn scanner_agrees_with_serde(line in mangled()) {
            prop_assert_eq!(parse_record(&line), parse_record_with_serde(&line), "line: {}", line);
        }

        #[test]
        fn scanner_agrees_with_serde_on_noise(line in "[{}\\[\\]\":, 0-9a-z.\\\\-]{0,40}") {
            prop_assert_eq!(parse_record(&line), parse_record_with_serde(&line), "line: {}", line);
        }
    }

    proptest! {
        #[test]
        fn string_len_finds_the_first_stop(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            let naive = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            prop_assert_eq!(super::string_len(&b), naive);
        }

        #[test]
        fn string_len_finds_the_first_stop_in_text(s in "[a-z\"\\\\\u{0}-\u{1f}\u{7f}-\u{a0}é€😀]{0,40}") {
            let b = s.as_bytes();
            let naive = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
            prop_assert_eq!(super::string_len(b), naive);
        }
    }

    /// Lines the scanner gives up on (nested fields), so that mangling them also tests the
    /// `serde_json` reader's nested paths against itself (and the scanner's giving up).
    const NESTED: &[&str] = &[
        r#"{"type":"transfer","id":"t","time":"2025-01-01","donor":"A","recipient":"B","lines":[{"item":"c","qty":2,"value":{"amount":"3","currency":"EUR"}}]}"#,
        r#"{"type":"threat","id":"th","time":"2025-01-01","region":"Kyiv","launched":{"drones":40},"intercepted":{"drones":35},"interceptors_used":{"PAC-3":2}}"#,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn nested_lines_never_panic_and_agree(line in mangled_from(NESTED)) {
            prop_assert_eq!(parse_record(&line), parse_record_with_serde(&line), "line: {}", line);
        }
    }

    #[test]
    fn scanner_takes_the_plain_spelling() {
        for base in BASES {
            let mut raw = crate::read::RawRecord::new();
            assert!(super::scan(base, &mut raw), "{base}");
        }
    }
}
