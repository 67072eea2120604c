//! Reading a whole file: every record with its line number, or every bad line's error.
//!
//! A file is judged whole: one bad line rejects it, and the user is told about all of them at
//! once (up to a cap, with a count of the rest), never just the first.

use std::fmt;

use qm_core::Record;

use crate::read::{parse_record, write_field_prefix, FieldError};

/// A sensible cap on the errors listed for one file, for callers without an opinion.
pub const ERRORS_MAX_DEFAULT: usize = 100;

/// A problem with one line of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file's name as the user gave it (`-` for standard input, say).
    pub file: String,
    /// 1-based line number.
    pub line: u32,
    /// The JSON key at fault; `None` for problems of the whole line.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// The error `e` of line `line` of `file`.
    pub fn new(file: &str, line: u32, e: FieldError) -> ParseError {
        ParseError {
            file: file.to_owned(),
            line,
            field: e.field,
            message: e.message,
        }
    }
}

/// `movements.jsonl:17: field "qty": expected a positive integer`, or without a field
/// `movements.jsonl:3: invalid JSON: ...`.
impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        write_field_prefix(self.field.as_deref(), f)?;
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Every bad line of a file, up to a cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseErrors {
    /// The errors listed, in line order, at most the cap given to [`parse_text`].
    pub errors: Vec<ParseError>,
    /// How many more bad lines there were beyond the cap.
    pub more: usize,
}

impl ParseErrors {
    /// How many bad lines there were in all.
    pub fn count(&self) -> usize {
        self.errors.len() + self.more
    }
}

/// One error per line, then `... and N more` when some were not listed.
impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        if self.more > 0 {
            if !self.errors.is_empty() {
                f.write_str("\n")?;
            }
            write!(f, "... and {} more", self.more)?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseErrors {}

/// Parses a whole file's text: every record with its 1-based line number, or every bad line's
/// error (the first `max_errors` listed, the rest counted in [`ParseErrors::more`]).
///
/// Lines end with `\n` or `\r\n`. Blank lines (ASCII whitespace only) are skipped but counted.
/// A UTF-8 byte order mark at the start of the text is skipped. Line numbers past `u32::MAX`
/// (a file of over four billion lines) stay at `u32::MAX`.
pub fn parse_text(
    file: &str,
    text: &str,
    max_errors: usize,
) -> Result<Vec<(u32, Record)>, ParseErrors> {
    // One slot a line (blank ones included): no regrowing, no copying of records.
    let lines = text.as_bytes().iter().filter(|&&b| b == b'\n').count() + 1;
    let mut records = Vec::with_capacity(lines);
    parse_text_with(file, text, max_errors, |line, rec| {
        records.push((line, rec))
    })?;
    Ok(records)
}

/// [`parse_text`] handing each record to `each` as it is read, instead of collecting them: for
/// a caller that streams records into a batch it can still abandon.
///
/// `each` sees the records in line order up to the first bad line and none after it (the file
/// is rejected anyway); reading goes on only to collect the errors.
pub fn parse_text_with(
    file: &str,
    text: &str,
    max_errors: usize,
    each: impl FnMut(u32, Record),
) -> Result<(), ParseErrors> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    parse_lines(file, text.lines().map(Ok), max_errors, each)
}

/// [`parse_text`] of a file's bytes, which need not be UTF-8: each line that is not is
/// reported with its line number like any other bad line, as
/// `file:N: invalid UTF-8 at byte K of the line` (K counted from 1).
pub fn parse_bytes(
    file: &str,
    bytes: &[u8],
    max_errors: usize,
) -> Result<Vec<(u32, Record)>, ParseErrors> {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
    let mut records = Vec::with_capacity(lines);
    parse_bytes_with(file, bytes, max_errors, |line, rec| {
        records.push((line, rec))
    })?;
    Ok(records)
}

/// [`parse_text_with`] of a file's bytes, which need not be UTF-8 (see [`parse_bytes`]).
///
/// Lines are split on bytes exactly as [`parse_text_with`] splits text, so that a file means
/// the same read either way.
pub fn parse_bytes_with(
    file: &str,
    bytes: &[u8],
    max_errors: usize,
    each: impl FnMut(u32, Record),
) -> Result<(), ParseErrors> {
    // The common case: one fast check of the whole file, then the text path.
    if let Ok(text) = std::str::from_utf8(bytes) {
        return parse_text_with(file, text, max_errors, each);
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    parse_lines(file, byte_lines(bytes), max_errors, each)
}

/// The lines of `bytes` as `str::lines` splits a text (on `\n`, a `\r` before it dropped),
/// each as text or, when it is not UTF-8, the 1-based byte of the line where it stops being.
fn byte_lines(bytes: &[u8]) -> impl Iterator<Item = Result<&str, usize>> {
    let mut rest = Some(bytes).filter(|b| !b.is_empty());
    std::iter::from_fn(move || {
        let b = rest?;
        let line = match b.iter().position(|&c| c == b'\n') {
            Some(i) => {
                rest = Some(&b[i + 1..]).filter(|r| !r.is_empty());
                b[..i].strip_suffix(b"\r").unwrap_or(&b[..i])
            }
            None => {
                rest = None;
                b
            }
        };
        Some(std::str::from_utf8(line).map_err(|e| e.valid_up_to() + 1))
    })
}

/// Parses each line, numbering them from 1, collecting the errors.
fn parse_lines<'a>(
    file: &str,
    lines: impl Iterator<Item = Result<&'a str, usize>>,
    max_errors: usize,
    mut each: impl FnMut(u32, Record),
) -> Result<(), ParseErrors> {
    let mut errors = ParseErrors {
        errors: Vec::new(),
        more: 0,
    };
    let mut line_no = 0u32;
    for line in lines {
        line_no = line_no.saturating_add(1);
        let parsed = match line {
            Ok(line) if line.bytes().all(|b| b.is_ascii_whitespace()) => continue,
            Ok(line) => parse_record(line),
            Err(byte) => Err(FieldError {
                field: None,
                message: format!("invalid UTF-8 at byte {byte} of the line"),
            }),
        };
        match parsed {
            Ok(rec) if errors.count() == 0 => each(line_no, rec),
            Ok(_) => {}
            Err(e) if errors.errors.len() < max_errors => {
                errors.errors.push(ParseError::new(file, line_no, e));
            }
            Err(_) => errors.more += 1,
        }
    }
    if errors.count() == 0 {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        /// On text, the byte splitter gives exactly the lines of `str::lines`.
        #[test]
        fn byte_lines_split_as_str_lines(text in "[a\r\n é]{0,24}") {
            let by_bytes: Vec<&str> = super::byte_lines(text.as_bytes()).map(Result::unwrap).collect();
            let by_str: Vec<&str> = text.lines().collect();
            prop_assert_eq!(by_bytes, by_str);
        }
    }

    #[test]
    fn byte_lines_find_the_first_bad_byte() {
        let lines: Vec<Result<&str, usize>> =
            super::byte_lines(b"ok\r\nab\xffc\n\xc3\n\xc3\xa9\xe2\x82\r\n").collect();
        assert_eq!(lines, [Ok("ok"), Err(3), Err(1), Err(3)]);
    }
}
