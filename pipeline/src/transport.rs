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

/// A batch of lines held in one text (one allocation for the batch, not one per line).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunk {
    /// The lines' texts, one after the other.
    pub text: String,
    /// Each line: its number and where its text is in `text`.
    pub lines: Vec<ChunkLine>,
}

/// One line of a [`Chunk`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkLine {
    /// Its 1-based line number in its input.
    pub number: u64,
    /// Its text: `text[start..end]` of the chunk.
    pub start: usize,
    /// See `start`.
    pub end: usize,
}

impl Chunk {
    /// The chunk of `lines` (copied).
    pub fn from_lines(lines: &[Line]) -> Chunk {
        let mut chunk = Chunk {
            text: String::with_capacity(lines.iter().map(|l| l.text.len()).sum()),
            lines: Vec::with_capacity(lines.len()),
        };
        for line in lines {
            chunk.push(line.number, &line.text);
        }
        chunk
    }

    /// Appends a line.
    pub fn push(&mut self, number: u64, text: &str) {
        let start = self.text.len();
        self.text.push_str(text);
        self.lines.push(ChunkLine {
            number,
            start,
            end: self.text.len(),
        });
    }

    /// The text of `line`.
    pub fn line(&self, line: &ChunkLine) -> &str {
        self.text.get(line.start..line.end).unwrap_or_default()
    }
}

/// A source of lines.
pub trait Transport {
    /// The consumer key its offset is stored under.
    fn key(&self) -> &str;
    /// Skips the first `lines` lines (already consumed).
    fn skip(&mut self, lines: u64) -> std::io::Result<()>;
    /// Up to `max` non-blank lines, and the offset after them; `None` at the end.
    fn next_batch(&mut self, max: usize) -> std::io::Result<Option<(Vec<Line>, u64)>>;
    /// The same as [`Transport::next_batch`], as one [`Chunk`]. The default copies the
    /// lines of `next_batch`; a transport can fill the chunk directly.
    fn next_chunk(&mut self, max: usize) -> std::io::Result<Option<(Chunk, u64)>> {
        Ok(self
            .next_batch(max)?
            .map(|(lines, offset)| (Chunk::from_lines(&lines), offset)))
    }
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

    /// Reads the next line into `buf` (without its line break); `false` at the end.
    fn read_raw(&mut self) -> std::io::Result<bool> {
        self.buf.clear();
        if self.reader.read_until(b'\n', &mut self.buf)? == 0 {
            return Ok(false);
        }
        self.offset += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(true)
    }

    /// The line in `buf`, invalid UTF-8 replaced.
    fn text(&self) -> std::borrow::Cow<'_, str> {
        match std::str::from_utf8(&self.buf) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&self.buf),
        }
    }

    fn read_line(&mut self) -> std::io::Result<Option<String>> {
        Ok(self.read_raw()?.then(|| self.text().into_owned()))
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

    fn next_chunk(&mut self, max: usize) -> std::io::Result<Option<(Chunk, u64)>> {
        let mut chunk = Chunk {
            text: String::with_capacity(max.min(1 << 16) * 160),
            lines: Vec::with_capacity(max.min(1 << 16)),
        };
        let mut any = false;
        while chunk.lines.len() < max {
            if !self.read_raw()? {
                break;
            }
            any = true;
            let number = self.offset;
            let text = self.text();
            if !text.trim().is_empty() {
                chunk.push(number, &text);
            }
        }
        Ok(any.then_some((chunk, self.offset)))
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

    #[test]
    fn chunks_hold_the_lines_of_batches() {
        let text: &[u8] = b"a\n\nb\r\n  \nc\xff\nd";
        let mut by_lines = LineReader::new("x", text);
        let mut by_chunks = LineReader::new("x", text);
        for max in [2, 1, 10, 10] {
            let lines = by_lines.next_batch(max).unwrap();
            let chunk = by_chunks.next_chunk(max).unwrap();
            assert_eq!(
                lines.map(|(l, o): (Vec<Line>, u64)| (Chunk::from_lines(&l), o)),
                chunk.clone()
            );
            if let Some((chunk, _)) = chunk {
                for l in &chunk.lines {
                    assert!(!chunk.line(l).is_empty());
                }
            }
        }
    }
}
