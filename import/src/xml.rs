//! A bounded element tree over `quick-xml`, for the GPX and TCX readers.
//!
//! quick-xml stays behind this module: the readers see [`Element`]s (local names without
//! namespace prefixes, attributes, text). Nesting deeper than [`MAX_DEPTH`] is an error, so
//! neither building nor dropping the tree recurses without a bound; a document that ends
//! before its elements are closed is an error naming the element left open (a truncated file).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::ImportError;

/// The deepest nesting accepted (GPX and TCX need fewer than 10 levels).
pub const MAX_DEPTH: usize = 64;

/// An element: its local name, attributes, text and children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// The local name (`trkpt` for `<gpx:trkpt>`).
    pub name: String,
    /// Attributes by local name, as written (entities are not expanded).
    pub attributes: Vec<(String, String)>,
    /// The text directly inside, trimmed.
    pub text: String,
    /// Child elements, in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the element at `path` (child names) below this one.
    pub fn text_at(&self, path: &[&str]) -> Option<&str> {
        let mut at = self;
        for name in path {
            at = at.child(name)?;
        }
        Some(at.text.as_str())
    }

    /// The value of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every element below this one named `name`, depth first (bounded by [`MAX_DEPTH`]).
    pub fn descendants<'a>(&'a self, name: &'a str, out: &mut Vec<&'a Element>) {
        let mut stack: Vec<&Element> = self.children.iter().rev().collect();
        while let Some(e) = stack.pop() {
            if e.name == name {
                out.push(e);
            }
            stack.extend(e.children.iter().rev());
        }
    }
}

fn element(start: &BytesStart<'_>) -> Result<Element, ImportError> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| ImportError::Xml(e.to_string()))?;
        attributes.push((
            String::from_utf8_lossy(attribute.key.local_name().as_ref()).into_owned(),
            String::from_utf8_lossy(&attribute.value).into_owned(),
        ));
    }
    Ok(Element {
        name,
        attributes,
        ..Element::default()
    })
}

/// Parses a document into its root element.
pub fn parse(bytes: &[u8]) -> Result<Element, ImportError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ImportError::Xml(format!("the text is not UTF-8 ({e})")))?;
    let mut reader = Reader::from_str(text.trim_start_matches('\u{feff}'));
    reader.config_mut().trim_text(true);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let xml_error = |reader: &Reader<&[u8]>, e: &quick_xml::Error| {
        // Syntax errors are markup left open at the end of the input (a tag, a comment, a
        // CDATA section): most often a file cut short.
        let hint = if matches!(e, quick_xml::Error::Syntax(_)) {
            "; is the file truncated?"
        } else {
            ""
        };
        ImportError::Xml(format!("{e} (at byte {}{hint})", reader.error_position()))
    };
    loop {
        let event = reader.read_event().map_err(|e| xml_error(&reader, &e))?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ImportError::Xml(format!(
                        "elements are nested more than {MAX_DEPTH} levels deep"
                    )));
                }
                if root.is_some() && stack.is_empty() {
                    return Err(ImportError::Xml("more than one root element".to_owned()));
                }
                stack.push(element(&start)?);
            }
            Event::Empty(start) => {
                let e = element(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(e),
                    None if root.is_none() => root = Some(e),
                    None => return Err(ImportError::Xml("more than one root element".to_owned())),
                }
            }
            Event::End(_) => {
                let Some(done) = stack.pop() else {
                    return Err(ImportError::Xml(
                        "a closing tag without its opening tag".to_owned(),
                    ));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    let decoded = t
                        .decode()
                        .map_err(|e| xml_error(&reader, &quick_xml::Error::Encoding(e)))?;
                    top.text.push_str(decoded.trim());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(String::from_utf8_lossy(&t).trim());
                }
            }
            Event::Eof => break,
            Event::GeneralRef(_)
            | Event::Comment(_)
            | Event::Decl(_)
            | Event::PI(_)
            | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(ImportError::Xml(format!(
            "the document ends before `<{}>` is closed (is the file truncated?)",
            open.name
        )));
    }
    root.ok_or_else(|| ImportError::Xml("no root element".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_document() {
        let root = parse(b"<?xml version=\"1.0\"?><a x=\"1\"><ns:b>text</ns:b><c/></a>");
        let Ok(root) = root else {
            unreachable!("{root:?}")
        };
        assert_eq!(root.name, "a");
        assert_eq!(root.attribute("x"), Some("1"));
        assert_eq!(root.text_at(&["b"]), Some("text"));
        assert!(root.child("c").is_some());
    }

    #[test]
    fn truncated_and_deep_documents_are_errors() {
        let e = parse(b"<gpx><trk><trkseg>");
        assert!(
            matches!(&e, Err(ImportError::Xml(m)) if m.contains("`<trkseg>`")),
            "{e:?}"
        );
        let deep = "<a>".repeat(100);
        assert!(matches!(parse(deep.as_bytes()), Err(ImportError::Xml(m)) if m.contains("nested")));
        assert!(matches!(parse(b"<a></b>"), Err(ImportError::Xml(_))));
        assert!(matches!(parse(b""), Err(ImportError::Xml(_))));
    }
}
