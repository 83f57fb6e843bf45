//! The transport boundary: where raw lines come from, behind the [`Transport`] trait, with
//! consumer offsets so that a restart resumes after the last committed line.
//!
//! [`LineReader`] reads any `BufRead` (a file, stdin). An input's offset is the number of its
//! lines (blank ones included) already consumed; [`Transport::skip`] moves past them on
//! restart, as a log consumer seeks to its committed offset.

use std::io::BufRead;

/// One raw line of input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Its 1-based line number in its input.
    pub number: u64,
    /// The text, without the line break.
    pub text: String,
}

/// A source of lines.
pub trait Transport {
    /// The consumer key its offset is stored under.
    fn key(&self) -> &str;
    /// Skips the first `lines` lines (already consumed).
    fn skip(&mut self, lines: u64) -> std::io::Result<()>;
    /// Up to `max` non-blank lines, and the offset after them; `None` at the end.
    fn next_batch(&mut self, max: usize) -> std::io::Result<Option<(Vec<Line>, u64)>>;
}

/// Lines from a reader.
pub struct LineReader<R> {
    key: String,
    reader: R,
    offset: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> LineReader<R> {
    /// Reads `reader`, whose offset is stored under `key`.
    pub fn new(key: &str, reader: R) -> LineReader<R> {
        LineReader {
            key: key.to_owned(),
            reader,
            offset: 0,
            buf: Vec::with_capacity(512),
        }
    }

    fn read_line(&mut self) -> std::io::Result<Option<String>> {
        self.buf.clear();
        if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(None);
        }
        self.offset += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(Some(match std::str::from_utf8(&self.buf) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(&self.buf).into_owned(),
        }))
    }
}

impl<R: BufRead> Transport for LineReader<R> {
    fn key(&self) -> &str {
        &self.key
    }

    fn skip(&mut self, lines: u64) -> std::io::Result<()> {
        while self.offset < lines {
            if self.read_line()?.is_none() {
                break;
            }
        }
        Ok(())
    }

    fn next_batch(&mut self, max: usize) -> std::io::Result<Option<(Vec<Line>, u64)>> {
        let mut lines = Vec::with_capacity(max.min(1 << 16));
        let mut any = false;
        while lines.len() < max {
            let Some(text) = self.read_line()? else {
                break;
            };
            any = true;
            if !text.trim().is_empty() {
                lines.push(Line {
                    number: self.offset,
                    text,
                });
            }
        }
        Ok(any.then_some((lines, self.offset)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_skip_blank_lines_and_resume_at_an_offset() {
        let text = "a\n\nb\r\nc\nd";
        let mut r = LineReader::new("x", text.as_bytes());
        let (lines, offset) = r.next_batch(2).unwrap().unwrap();
        assert_eq!(
            lines
                .iter()
                .map(|l| (l.number, l.text.as_str()))
                .collect::<Vec<_>>(),
            [(1, "a"), (3, "b")]
        );
        assert_eq!(offset, 3);
        let mut again = LineReader::new("x", text.as_bytes());
        again.skip(offset).unwrap();
        let (lines, offset) = again.next_batch(10).unwrap().unwrap();
        assert_eq!(lines.iter().map(|l| l.number).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(offset, 5);
        assert!(again.next_batch(10).unwrap().is_none());
    }
}
