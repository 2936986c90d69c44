//! Reading an event's top level without building it: the envelope's keys
//! are told apart as they stream past, every value is left as raw JSON,
//! and only unknown keys are allocated.

use std::borrow::Cow;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

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
    known: [Option<&'a RawValue>; ENVELOPE.len()],
    other: Vec<(String, &'a RawValue)>,
}

impl<'a> Fields<'a> {
    /// The fields of `body`, if it is one JSON object (UTF-8 checked once).
    pub(crate) fn read(body: &'a [u8]) -> Option<Self> {
        serde_json::from_str(std::str::from_utf8(body).ok()?).ok()
    }

    /// Removes `key` (an envelope key) and gives its raw value.
    pub(crate) fn take(&mut self, key: &str) -> Option<&'a RawValue> {
        self.known[slot(key)].take()
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
        let known = ENVELOPE
            .iter()
            .zip(self.known)
            .filter_map(|(key, raw)| Some(((*key).to_owned(), raw?)));
        known
            .chain(self.other)
            .map(|(key, raw)| Ok((key, value_of(raw)?)))
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

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Fields {
                    known: [None; ENVELOPE.len()],
                    other: Vec::new(),
                };
                let seed = KeySeed {
                    find: envelope_slot,
                    keep_unknown: true,
                };
                while let Some(key) = map.next_key_seed(seed)? {
                    let raw = map.next_value()?;
                    match key {
                        Key::Known(at) => {
                            // A repeated key: a full parse reads the copy the
                            // last one replaces too, and refuses the body if
                            // that copy holds a lone surrogate or a number
                            // beyond f64; so must this reader.
                            if let Some(replaced) = fields.known[at].replace(raw) {
                                value_of(replaced).map_err(|()| {
                                    serde::de::Error::custom(
                                        "a repeated key's earlier value is not valid JSON",
                                    )
                                })?;
                            }
                        }
                        Key::Unknown(name) => fields.other.push((name.unwrap_or_default(), raw)),
                    }
                }
                Ok(fields)
            }
        }
        deserializer.deserialize_map(FieldsVisitor)
    }
}

/// `title`, `severity` and `description` inside `data`, found without
/// building `data` (the last of a repeated key, as a full parse keeps).
#[derive(Default)]
pub(crate) struct DataPeek<'a>([Option<&'a RawValue>; IN_DATA.len()]);

impl<'a> DataPeek<'a> {
    /// Nothing when `data` is not an object (a full parse would wrap it as
    /// `{"value": …}`, which has none of these keys).
    pub(crate) fn of(data: &'a RawValue) -> Self {
        if data.get().starts_with('{') {
            serde_json::from_str(data.get()).unwrap_or_default()
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

impl<'de> Deserialize<'de> for DataPeek<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PeekVisitor;
        impl<'de> Visitor<'de> for PeekVisitor {
            type Value = DataPeek<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the data object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut peek = DataPeek::default();
                let seed = KeySeed {
                    find: |key| IN_DATA.iter().position(|name| *name == key),
                    keep_unknown: false,
                };
                while let Some(key) = map.next_key_seed(seed)? {
                    match key {
                        Key::Known(at) => peek.0[at] = Some(map.next_value()?),
                        Key::Unknown(_) => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(peek)
            }
        }
        deserializer.deserialize_map(PeekVisitor)
    }
}

/// A key, as its position in its list of names, or unknown (kept only if
/// asked).
enum Key {
    Known(usize),
    Unknown(Option<String>),
}

#[derive(Clone, Copy)]
struct KeySeed {
    /// The key's position in the list of names looked for.
    find: fn(&str) -> Option<usize>,
    keep_unknown: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Key, E> {
        Ok(match (self.find)(key) {
            Some(at) => Key::Known(at),
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
    serde_json::from_str(raw.get()).map_err(|_| ())
}
