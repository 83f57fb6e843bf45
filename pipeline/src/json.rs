//! Compact JSON text, byte for byte what `serde_json::to_string` writes, faster for the
//! on-demand stage's result rows.
//!
//! A result row's JSON is most of the on-demand stage's time, and most of that went into
//! `serde_json`'s `collect_str` (each local date of a period is formatted one character at a
//! time through its escaping adapter) and into growing the output. Here the structure
//! (braces, commas, `null`, `true`) is written directly into one pre-sized buffer, a
//! `collect_str` value is formatted once into a scratch string, and every scalar (strings with
//! their escapes, integers, floats) is still written by `serde_json` itself, so the text is the
//! same. Anything this serializer does not handle the way `serde_json` does (a map key that is
//! not a string) is an error, and [`to_string`] then falls back to `serde_json::to_string`.

use std::cell::RefCell;
use std::fmt::{self, Display};

use serde::ser::{self, Serialize};

/// The JSON text of `value`, as `serde_json::to_string(value)` gives it (empty when that
/// fails too). `capacity` is a guess of its length.
///
/// The text is written into a buffer kept by each thread (so it grows once, not for every
/// row), then copied out at its exact length.
pub fn to_string<T: Serialize + ?Sized>(value: &T, capacity: usize) -> String {
    let fast = BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut out) => {
            out.buf.clear();
            out.buf.reserve(capacity);
            let text = write(&mut out, value);
            if out.buf.capacity() > KEEP {
                out.buf = Vec::new();
                out.scratch = String::new();
            }
            text
        }
        Err(_) => {
            let mut out = Out::default();
            write(&mut out, value)
        }
    });
    fast.unwrap_or_else(|| serde_json::to_string(value).unwrap_or_default())
}

/// Each thread's buffer is dropped when a text grew it beyond this.
const KEEP: usize = 1 << 20;

thread_local! {
    static BUFFER: RefCell<Out> = RefCell::new(Out::default());
}

fn write<T: Serialize + ?Sized>(out: &mut Out, value: &T) -> Option<String> {
    value.serialize(&mut *out).ok()?;
    std::str::from_utf8(&out.buf).ok().map(str::to_owned)
}

/// Why the fast path gave up.
#[derive(Debug)]
pub struct Error(String);

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Error {
        Error(msg.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error(e.to_string())
    }
}

#[derive(Default)]
struct Out {
    buf: Vec<u8>,
    scratch: String,
}

impl Out {
    /// A scalar, written by `serde_json`.
    fn scalar<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        serde_json::to_writer(&mut self.buf, value).map_err(Error::from)
    }

    fn push(&mut self, byte: u8) {
        self.buf.push(byte);
    }
}

/// A sequence or a map being written: whether a comma comes before the next element, and
/// how many braces close it.
struct Compound<'a> {
    out: &'a mut Out,
    first: bool,
    /// Closing bytes: `]`, `}`, or `]}` / `}}` for a variant's contents.
    close: &'static [u8],
}

impl Compound<'_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b',');
        }
    }

    fn finish(self) -> Result<(), Error> {
        self.out.buf.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'a> ser::Serializer for &'a mut Out {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.scalar(&v)
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.scalar(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.scalar(v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.buf.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.push(b'{');
        self.scalar(variant)?;
        self.push(b':');
        value.serialize(&mut *self)?;
        self.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        self.push(b'[');
        Ok(Compound {
            out: self,
            first: true,
            close: b"]",
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Error> {
        self.push(b'{');
        self.scalar(variant)?;
        self.buf.extend_from_slice(b":[");
        Ok(Compound {
            out: self,
            first: true,
            close: b"]}",
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        self.push(b'{');
        Ok(Compound {
            out: self,
            first: true,
            close: b"}",
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, Error> {
        self.push(b'{');
        self.scalar(variant)?;
        self.buf.extend_from_slice(b":{");
        Ok(Compound {
            out: self,
            first: true,
            close: b"}}",
        })
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        use std::fmt::Write;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let written = write!(scratch, "{value}");
        let result = match written {
            Ok(()) => self.scalar(scratch.as_str()),
            Err(_) => Err(Error("a value failed to format".to_owned())),
        };
        self.scratch = scratch;
        result
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.out)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        key.serialize(KeySerializer(&mut *self.out))?;
        self.out.push(b':');
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.out)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.comma();
        self.out.scalar(key)?;
        self.out.push(b':');
        value.serialize(&mut *self.out)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(self, key, value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Map keys: strings (and string-like unit variants and newtypes) only; anything else is an
/// error, and [`to_string`] falls back to `serde_json`.
struct KeySerializer<'a>(&'a mut Out);

fn not_a_string_key() -> Error {
    Error("a map key that is not a string".to_owned())
}

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.0.scalar(v)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.0.scalar(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_bool(self, _v: bool) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_i8(self, _v: i8) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_i16(self, _v: i16) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_i32(self, _v: i32) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_i64(self, _v: i64) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_u8(self, _v: u8) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_u16(self, _v: u16) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_u32(self, _v: u32) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_u64(self, _v: u64) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_char(self, _v: char) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(not_a_string_key())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_a_string_key())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_a_string_key())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_a_string_key())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_a_string_key())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(not_a_string_key())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(not_a_string_key())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_a_string_key())
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.serialize_str(&value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::to_string;

    fn same<T: Serialize>(value: &T) {
        assert_eq!(
            to_string(value, 16),
            serde_json::to_string(value).unwrap_or_default()
        );
    }

    #[derive(Serialize)]
    enum E {
        Unit,
        New(f64),
        Tuple(u8, Option<i8>),
        Struct { a: Vec<u32>, b: () },
    }

    #[derive(Serialize)]
    struct S<'a> {
        #[serde(rename = "we\"ird\n")]
        weird: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        floats: Vec<f64>,
        date: chrono::NaiveDate,
        time: chrono::DateTime<chrono::FixedOffset>,
        enums: Vec<E>,
        map: BTreeMap<String, (bool, char)>,
        unit_keys: BTreeMap<Key, i64>,
        bytes: &'a [u8],
        nested: Option<Box<S<'a>>>,
        wide: (i128, u128, f32),
    }

    #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        A,
        B,
    }

    #[test]
    fn same_text_as_serde_json() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap_or_default();
        let time = chrono::DateTime::parse_from_rfc3339("2026-08-01T07:30:00.125+08:00").unwrap();
        let inner = S {
            weird: "",
            skipped: Some(3),
            floats: vec![],
            date,
            time,
            enums: vec![],
            map: BTreeMap::new(),
            unit_keys: BTreeMap::new(),
            bytes: &[],
            nested: None,
            wide: (0, 0, 0.0),
        };
        let s = S {
            weird: "quote \" backslash \\ controls \u{0}\u{1f}\u{7f} tab\t é ✓ 🏋",
            skipped: None,
            floats: vec![
                0.0,
                -0.0,
                1.0,
                0.1,
                1e300,
                -2.5e-8,
                f64::NAN,
                f64::INFINITY,
                f64::MIN_POSITIVE,
                9.0e15,
                123456789.123,
            ],
            date,
            time,
            enums: vec![
                E::Unit,
                E::New(2.0),
                E::Tuple(1, None),
                E::Struct {
                    a: vec![1, 2],
                    b: (),
                },
            ],
            map: [
                ("k\"".to_owned(), (true, '"')),
                ("".to_owned(), (false, 'x')),
            ]
            .into_iter()
            .collect(),
            unit_keys: [(Key::A, -1), (Key::B, i64::MIN)].into_iter().collect(),
            bytes: &[0, 255],
            nested: Some(Box::new(inner)),
            wide: (i128::MIN, u128::MAX, 0.1),
        };
        same(&s);
        same(&"plain");
        same(&Option::<u8>::None);
        // Non-string keys: serde_json's own answer (text or error).
        let int_keys: BTreeMap<u32, u8> = [(1, 2)].into_iter().collect();
        same(&int_keys);
        let tuple_keys: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into_iter().collect();
        same(&tuple_keys);
    }
}
