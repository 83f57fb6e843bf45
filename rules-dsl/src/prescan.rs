//! Before pest: the size limit, the split into declarations, the nesting bound, and the
//! comments.
//!
//! pest parses by recursion, so text must never reach it with unbounded brace or parenthesis
//! nesting. This module scans the text once, without recursion, skipping strings and comments:
//! it splits the file at every `challenge` and `template` keyword (they are reserved, so outside
//! strings and comments they can only start a declaration), records for each piece whether its
//! nesting goes beyond [`MAX_DSL_NESTING`], and collects the comments for the formatter. It never
//! fails and never panics, whatever the bytes.

use rules_core::limits::MAX_DSL_NESTING;
use rules_core::span::Span;

/// One piece of the file that is parsed on its own: a declaration, or text before the first one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Byte offset of the first byte (a `challenge` or `template` keyword, or 0).
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
    /// Where the nesting first went beyond [`MAX_DSL_NESTING`] (the byte of that brace or
    /// parenthesis), if it did.
    pub too_deep: Option<Span>,
}

/// A `// ...` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Byte offset of the `//`.
    pub start: usize,
    /// Byte offset of the end of the line (the `\n`, or the end of the text).
    pub end: usize,
    /// Whether only whitespace precedes it on its line.
    pub own_line: bool,
    /// Where the formatter attaches it: its own start for an own-line comment, the first
    /// token of its line for an end-of-line comment (so it moves to its own line above that
    /// line).
    pub anchor: usize,
}

/// What the scan found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// The pieces to parse, in source order.
    pub chunks: Vec<Chunk>,
    /// Every comment, in source order.
    pub comments: Vec<Comment>,
}

/// A token of the scan: only what the scan needs to tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'s> {
    /// A word (`[A-Za-z0-9_]+`) at a byte offset; `after_dollar` for `$name`.
    Word(usize, &'s str, bool),
    /// `{` or `(`.
    Open(usize),
    /// `}` or `)`.
    Close(usize),
    /// A string literal or any other character.
    Other(usize),
    /// A comment: start, end, and the first token of its line if it is not on its own line.
    Comment(usize, usize, Option<usize>),
}

/// Splits `text` into tokens without recursion, skipping strings (which end at their closing
/// quote or at the end of the line) and comments.
fn lex<'s>(text: &'s str, mut on: impl FnMut(Token<'s>)) {
    let bytes = text.as_bytes();
    // First token of the current line, for end-of-line comments.
    let mut line_first: Option<usize> = None;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => {
                line_first = None;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = bytes
                    .get(i..)
                    .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
                    .map_or(bytes.len(), |n| i + n);
                on(Token::Comment(i, end, line_first));
                i = end;
            }
            b'"' => {
                line_first.get_or_insert(i);
                on(Token::Other(i));
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'"' => {
                            i += 1;
                            break;
                        }
                        b'\n' => break,
                        b'\\' if bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 2,
                        _ => i += 1,
                    }
                }
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                let word = text.get(start..i).unwrap_or_default();
                let after_dollar = start > 0 && bytes.get(start - 1) == Some(&b'$');
                line_first.get_or_insert(start);
                on(Token::Word(start, word, after_dollar));
            }
            _ => {
                line_first.get_or_insert(i);
                on(match b {
                    b'{' | b'(' => Token::Open(i),
                    b'}' | b')' => Token::Close(i),
                    _ => Token::Other(i),
                });
                // Skip a whole UTF-8 sequence at once; continuation bytes are never ASCII.
                i += utf8_len(b);
            }
        }
    }
}

/// Scans `source` (any size; the caller checks [`rules_core::limits::MAX_SOURCE_BYTES`] first).
pub fn scan(source: &str) -> Scan {
    let mut scan = Scan::default();
    // The piece being scanned: start, depth, where it first went too deep, whether it holds
    // anything but blanks and comments.
    let mut start = 0usize;
    let mut depth = 0usize;
    let mut too_deep: Option<Span> = None;
    let mut has_code = false;
    lex(source, |token| match token {
        Token::Comment(start, end, line_first) => scan.comments.push(Comment {
            start,
            end,
            own_line: line_first.is_none(),
            anchor: line_first.unwrap_or(start),
        }),
        Token::Word(at, word, after_dollar) => {
            if (word == "challenge" || word == "template") && !after_dollar {
                push_chunk(&mut scan, start, at, too_deep, has_code);
                start = at;
                depth = 0;
                too_deep = None;
            }
            has_code = true;
        }
        Token::Open(at) => {
            has_code = true;
            depth += 1;
            if depth > MAX_DSL_NESTING && too_deep.is_none() {
                too_deep = Some(Span::new(at, at + 1));
            }
        }
        Token::Close(_) => {
            has_code = true;
            depth = depth.saturating_sub(1);
        }
        Token::Other(_) => has_code = true,
    });
    push_chunk(&mut scan, start, source.len(), too_deep, has_code);
    scan
}

/// The byte offsets in `text` of the words that start an item of a declaration (`title`,
/// `goal`, ...), for error recovery. They are reserved, so outside strings and comments they
/// can only start an item, except `tier`, which also ends a reward (`reward "r" tier "gold"`):
/// it starts an item only when its string is followed by `at`, as in the grammar (or when
/// nothing that could be its string follows, so that a broken tier line is still its own item).
pub fn item_starts(text: &str) -> Vec<usize> {
    let mut tokens = Vec::new();
    lex(text, |token| {
        if !matches!(token, Token::Comment(..)) {
            tokens.push(token);
        }
    });
    let mut out = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let Token::Word(at, word, false) = *token else {
            continue;
        };
        if !crate::errors::HEADER_WORDS.contains(&word) {
            continue;
        }
        if word == "tier" {
            let string_after = matches!(tokens.get(i + 1), Some(Token::Other(o)) if text.as_bytes().get(*o) == Some(&b'"'));
            let at_after = matches!(tokens.get(i + 2), Some(Token::Word(_, "at", false)));
            if string_after && !at_after {
                continue;
            }
        }
        out.push(at);
    }
    out
}

fn push_chunk(scan: &mut Scan, start: usize, end: usize, too_deep: Option<Span>, has_code: bool) {
    if has_code {
        scan.chunks.push(Chunk {
            start,
            end,
            too_deep,
        });
    }
}

/// The length of the UTF-8 sequence starting with `b` (1 for stray continuation bytes).
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_declaration_keywords_outside_strings_and_comments() {
        let src = "// challenge in a comment\nchallenge \"a template\" { }\n\ntemplate \"b\" { title \"challenge\" }\n";
        let scan = scan(src);
        let starts: Vec<usize> = scan.chunks.iter().map(|c| c.start).collect();
        let second = src.find("template \"b\"").unwrap_or_default();
        assert_eq!(starts, vec![26, second]);
        assert_eq!(scan.chunks.last().map(|c| c.end), Some(src.len()));
        assert_eq!(scan.comments.len(), 1);
    }

    #[test]
    fn text_before_the_first_declaration_is_a_chunk_of_its_own() {
        let scan = scan("oops\nchallenge \"a\" { }");
        assert_eq!(scan.chunks.len(), 2);
        assert_eq!(scan.chunks.first().map(|c| (c.start, c.end)), Some((0, 5)));
    }

    #[test]
    fn deep_nesting_is_found_without_recursion() {
        let src = format!("challenge \"x\" {{ goal {} }}", "all { ".repeat(100_000));
        let scan = scan(&src);
        let deep = scan.chunks.first().and_then(|c| c.too_deep);
        assert!(deep.is_some());
        let ok = scan_depth("challenge \"x\" { goal all { sum(reps) >= 1 } }");
        assert_eq!(ok, None);
    }

    fn scan_depth(src: &str) -> Option<Span> {
        scan(src).chunks.first().and_then(|c| c.too_deep)
    }

    #[test]
    fn end_of_line_comments_anchor_at_the_first_token_of_their_line() {
        let src = "  title \"x\" // about the title\n  // own line\n";
        let scan = scan(src);
        assert_eq!(scan.comments.len(), 2);
        let first = scan.comments.first().cloned();
        assert_eq!(first.map(|c| (c.own_line, c.anchor)), Some((false, 2)));
        let second = scan.comments.get(1).cloned();
        assert_eq!(
            second.map(|c| (c.own_line, c.anchor == c.start)),
            Some((true, true))
        );
    }

    #[test]
    fn item_starts_skip_strings_comments_and_params() {
        let text = "title \"goal\" // window\n goal sum(reps) >= $title\n reward \"r\"";
        let goal = text.find("goal sum").unwrap_or_default();
        let reward = text.find("reward").unwrap_or_default();
        assert_eq!(item_starts(text), vec![0, goal, reward]);
    }

    #[test]
    fn unterminated_strings_stop_at_the_line_end() {
        let scan = scan("challenge \"a { \n template \"b\" { }");
        assert_eq!(scan.chunks.len(), 2);
    }
}
