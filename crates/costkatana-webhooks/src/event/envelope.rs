//! Reading an event's top level without building it: the envelope's keys
//! are told apart as they stream past, every value is left as raw JSON,
//! and only unknown keys are allocated. An object `data` is read in the
//! same pass: `title`, `severity` and `description` are picked out of it
//! while its text is found, so a large `data` is scanned once.

use std::borrow::Cow;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// `data`'s place in [`ENVELOPE`].
const DATA: usize = 13;

/// The top-level keys an event is read from, both body shapes.
const ENVELOPE: [&str; 15] = [
    "eventType",
    "event_type",
    "eventId",
    "event_id",
    "occurredAt",
    "occurred_at",
    "userId",
    "user_id",
    "projectId",
    "project_id",
    "severity",
    "title",
    "description",
    "data",
    "metadata",
];

/// The keys looked for inside `data`.
const IN_DATA: [&str; 3] = ["title", "severity", "description"];

/// A JSON object's top-level fields, values unparsed: the last of a
/// repeated key wins, as in a full parse, and the copies it replaces are
/// checked as a full parse would check them. Read it from text
/// ([`Fields::read`]): read from bytes, every raw value would be checked
/// as UTF-8 again.
pub(crate) struct Fields<'a> {
    /// Every envelope key's raw value but `data`'s, which is in `data`.
    known: [Option<&'a RawValue>; ENVELOPE.len()],
    data: Option<Data<'a>>,
    other: Vec<(String, &'a RawValue)>,
}

/// `data`'s text, and what was found in it if it was read as an object
/// while the body was (`None`: look when asked).
#[derive(Clone, Copy)]
struct Data<'a> {
    text: &'a str,
    peek: Option<DataPeek<'a>>,
}

impl<'a> Fields<'a> {
    /// The fields of `body`, if it is one JSON object (UTF-8 checked once).
    pub(crate) fn read(body: &'a [u8]) -> Option<Self> {
        let text = std::str::from_utf8(body).ok()?;
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let fields = FieldsSeed { text }.deserialize(&mut deserializer).ok()?;
        deserializer.end().ok()?;
        Some(fields)
    }

    /// Removes `key` (an envelope key other than `data`) and gives its raw
    /// value.
    pub(crate) fn take(&mut self, key: &str) -> Option<&'a RawValue> {
        let at = slot(key);
        debug_assert_ne!(at, DATA, "data is taken with take_data");
        self.known[at].take()
    }

    /// Removes `data` and gives its text as sent, and `title`, `severity`
    /// and `description` within it.
    pub(crate) fn take_data(&mut self) -> Option<(&'a str, DataPeek<'a>)> {
        let data = self.data.take()?;
        Some((
            data.text,
            data.peek.unwrap_or_else(|| DataPeek::of(data.text)),
        ))
    }

    /// Removes `camel` (or else `snake`) when it is a string or a number
    /// (ids are sometimes numeric); other shapes stay.
    pub(crate) fn take_string(&mut self, camel: &str, snake: &str) -> Option<String> {
        self.take_str(camel, snake).map(Cow::into_owned)
    }

    /// [`take_string`](Self::take_string), borrowed from the body when the
    /// string has no escape: for values read and dropped (the event type,
    /// the severity).
    pub(crate) fn take_str(&mut self, camel: &str, snake: &str) -> Option<Cow<'a, str>> {
        [camel, snake].into_iter().find_map(|key| {
            let field = &mut self.known[slot(key)];
            let text = str_of((*field)?)?;
            *field = None;
            Some(text)
        })
    }

    /// What is left, parsed: `Err` where a full parse of the body fails.
    pub(crate) fn into_rest(self) -> Result<Map<String, Value>, ()> {
        let data = self.data.map(|data| (ENVELOPE[DATA], data.text));
        let known = ENVELOPE
            .iter()
            .zip(self.known)
            .filter_map(|(key, raw)| Some((*key, raw?.get())))
            .chain(data)
            .map(|(key, text)| (key.to_owned(), text));
        known
            .chain(self.other.into_iter().map(|(key, raw)| (key, raw.get())))
            .map(|(key, text)| Ok((key, parsed(text)?)))
            .collect()
    }
}

fn slot(key: &str) -> usize {
    envelope_slot(key).unwrap_or_else(|| unreachable!("{key} is an envelope key"))
}

/// `key`'s position in [`ENVELOPE`]: a `match`, which the compiler turns
/// into a switch on the length and a compare or two, where a search of
/// the list compares up to 15 names per key.
fn envelope_slot(key: &str) -> Option<usize> {
    let at = match key {
        "eventType" => 0,
        "event_type" => 1,
        "eventId" => 2,
        "event_id" => 3,
        "occurredAt" => 4,
        "occurred_at" => 5,
        "userId" => 6,
        "user_id" => 7,
        "projectId" => 8,
        "project_id" => 9,
        "severity" => 10,
        "title" => 11,
        "description" => 12,
        "data" => 13,
        "metadata" => 14,
        _ => return None,
    };
    debug_assert_eq!(ENVELOPE[at], key);
    Some(at)
}

/// Reads [`Fields`] from `text`, the whole body, which every borrowed
/// key and raw value lies within.
struct FieldsSeed<'a> {
    text: &'a str,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'de> {
    type Value = Fields<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Fields<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'de> {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Fields {
            known: [None; ENVELOPE.len()],
            data: None,
            other: Vec::new(),
        };
        let seed = KeySeed {
            find: envelope_slot,
            keep_unknown: true,
        };
        // A repeated key: a full parse reads the copy the last one replaces
        // too, and refuses the body if that copy holds a lone surrogate or
        // a number beyond f64; so must this reader.
        let refused =
            |_| serde::de::Error::custom("a repeated key's earlier value is not valid JSON");
        while let Some(key) = map.next_key_seed(seed)? {
            match key {
                Key::Known(DATA, written) => {
                    let data = match written.and_then(|key| object_after(self.text, key)) {
                        Some(start) => {
                            let (peek, last) = map.next_value_seed(PeekSeed)?;
                            let end = object_end(
                                self.text,
                                last.map_or(start + 1, |raw| {
                                    offset(self.text, raw.get()) + raw.get().len()
                                }),
                            );
                            Data {
                                text: &self.text[start..end],
                                peek: Some(peek),
                            }
                        }
                        None => Data {
                            text: map.next_value::<&RawValue>()?.get(),
                            peek: None,
                        },
                    };
                    if let Some(replaced) = fields.data.replace(data) {
                        parsed(replaced.text).map_err(refused)?;
                    }
                }
                Key::Known(at, _) => {
                    if let Some(replaced) = fields.known[at].replace(map.next_value()?) {
                        value_of(replaced).map_err(refused)?;
                    }
                }
                Key::Unknown(name) => fields
                    .other
                    .push((name.unwrap_or_default(), map.next_value()?)),
            }
        }
        Ok(fields)
    }
}

/// Where `part`, a slice of `text`, starts in it.
fn offset(text: &str, part: &str) -> usize {
    let at = (part.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    debug_assert!(at + part.len() <= text.len(), "a slice of the body");
    at
}

/// Where the value after `key` (a key borrowed from `text`: its closing
/// quote, a colon, whitespace) starts, if it is an object.
fn object_after(text: &str, key: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = offset(text, key) + key.len();
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    at = skip_whitespace(bytes, at + 1);
    if bytes.get(at) != Some(&b':') {
        return None;
    }
    at = skip_whitespace(bytes, at + 1);
    (bytes.get(at) == Some(&b'{')).then_some(at)
}

/// The end of an object whose last member ends at `from` (or whose `{`
/// is just before it): past the whitespace and the closing brace, which
/// the parser has checked are there.
fn object_end(text: &str, from: usize) -> usize {
    let at = skip_whitespace(text.as_bytes(), from);
    debug_assert_eq!(text.as_bytes().get(at), Some(&b'}'));
    at + 1
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// `title`, `severity` and `description` inside `data`, found without
/// building `data` (the last of a repeated key, as a full parse keeps).
#[derive(Default, Clone, Copy)]
pub(crate) struct DataPeek<'a>([Option<&'a RawValue>; IN_DATA.len()]);

impl<'a> DataPeek<'a> {
    /// Nothing when `data` is not an object (a full parse would wrap it as
    /// `{"value": …}`, which has none of these keys).
    pub(crate) fn of(data: &'a str) -> Self {
        if data.starts_with('{') {
            let mut deserializer = serde_json::Deserializer::from_str(data);
            PeekSeed
                .deserialize(&mut deserializer)
                .map_or_else(|_| DataPeek::default(), |(peek, _)| peek)
        } else {
            DataPeek::default()
        }
    }

    /// `key`'s raw value, one of [`IN_DATA`].
    pub(crate) fn get(&self, key: &str) -> Option<&'a RawValue> {
        IN_DATA
            .iter()
            .position(|known| *known == key)
            .and_then(|at| self.0[at])
    }
}

/// Reads `data` as an object: its [`DataPeek`], and its last member's
/// raw value (`None` when empty), where the object's end is found from.
/// Every member is kept raw while it is read, as cheap as skipping it.
#[derive(Clone, Copy)]
struct PeekSeed;

impl<'de> DeserializeSeed<'de> for PeekSeed {
    type Value = (DataPeek<'de>, Option<&'de RawValue>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PeekSeed {
    type Value = (DataPeek<'de>, Option<&'de RawValue>);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the data object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut peek = DataPeek::default();
        let mut last = None;
        let seed = KeySeed {
            find: |key| IN_DATA.iter().position(|name| *name == key),
            keep_unknown: false,
        };
        while let Some(key) = map.next_key_seed(seed)? {
            let raw: &RawValue = map.next_value()?;
            if let Key::Known(at, _) = key {
                peek.0[at] = Some(raw);
            }
            last = Some(raw);
        }
        Ok((peek, last))
    }
}

/// A key, as its position in its list of names, or unknown (kept only if
/// asked).
/// A known key borrowed from the body (it had no escape) comes with its
/// text, which says where it lies.
enum Key<'de> {
    Known(usize, Option<&'de str>),
    Unknown(Option<String>),
}

#[derive(Clone, Copy)]
struct KeySeed {
    /// The key's position in the list of names looked for.
    find: fn(&str) -> Option<usize>,
    keep_unknown: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<'de>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(match (self.find)(key) {
            Some(at) => Key::Known(at, None),
            None => Key::Unknown(self.keep_unknown.then(|| key.to_owned())),
        })
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(match (self.find)(key) {
            Some(at) => Key::Known(at, Some(key)),
            None => Key::Unknown(self.keep_unknown.then(|| key.to_owned())),
        })
    }
}

/// A raw string or number as text; anything else is `None`, unparsed.
pub(crate) fn string_of(raw: &RawValue) -> Option<String> {
    str_of(raw).map(Cow::into_owned)
}

/// [`string_of`], borrowed when the string needs no unescaping.
pub(crate) fn str_of(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    match text.as_bytes().first()? {
        // Valid JSON, so without a backslash its inside is the string.
        b'"' if !text.contains('\\') => Some(Cow::Borrowed(&text[1..text.len() - 1])),
        b'"' => serde_json::from_str(text).ok().map(Cow::Owned),
        b'-' | b'0'..=b'9' => match serde_json::from_str(text).ok()? {
            Value::Number(number) => Some(Cow::Owned(number.to_string())),
            _ => None,
        },
        _ => None,
    }
}

/// A raw value parsed in full; `Err` where a full parse of the body fails.
pub(crate) fn value_of(raw: &RawValue) -> Result<Value, ()> {
    parsed(raw.get())
}

/// [`value_of`] a value's text.
fn parsed(text: &str) -> Result<Value, ()> {
    serde_json::from_str(text).map_err(|_| ())
}
