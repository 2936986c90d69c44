//! Request validation as the live API does it (zod schemas behind a pipe):
//! every problem found, each with its field path (`events.0`), zod's
//! message and zod's code, answered as `400 Validation failed`.

pub(crate) mod emission;
pub(crate) mod params;
pub(crate) mod queries;
pub(crate) mod webhook;

use serde_json::{json, Map, Value};

use crate::js;

/// One problem with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Issue {
    /// The path to the value, keys and indexes joined by dots (`events.0`;
    /// empty for the whole body).
    pub(crate) field: String,
    pub(crate) message: String,
    /// zod's issue code: `invalid_type`, `too_small`, `too_big`,
    /// `invalid_string`, `invalid_enum_value`.
    pub(crate) code: &'static str,
}

impl Issue {
    pub(crate) fn to_json(&self) -> Value {
        json!({ "field": self.field, "message": self.message, "code": self.code })
    }
}

/// zod's name for the type of a JSON value.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `a.b` for a key `b` under path `a`.
pub(crate) fn join(path: &str, key: impl std::fmt::Display) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Collects the issues of one request, checking values as zod's schemas do.
/// Each check returns the value when it is valid, `None` otherwise.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    issues: Vec<Issue>,
}

impl Checker {
    /// The issues found, or `Ok` when there are none.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, Vec<Issue>> {
        if self.issues.is_empty() {
            Ok(value)
        } else {
            Err(self.issues)
        }
    }

    pub(crate) fn push(&mut self, field: &str, message: impl Into<String>, code: &'static str) {
        self.issues.push(Issue {
            field: field.to_owned(),
            message: message.into(),
            code,
        });
    }

    /// A required value that is missing (`Required`) or of another type.
    fn wrong_type(&mut self, field: &str, expected: &str, got: Option<&Value>) {
        let message = match got {
            None => "Required".to_owned(),
            Some(value) => format!("Expected {expected}, received {}", type_name(value)),
        };
        self.push(field, message, "invalid_type");
    }

    /// A string of `min` to `max` characters (as JavaScript counts them).
    pub(crate) fn string(
        &mut self,
        field: &str,
        value: Option<&Value>,
        min: Option<usize>,
        max: Option<usize>,
    ) -> Option<String> {
        let Some(Value::String(text)) = value else {
            self.wrong_type(field, "string", value);
            return None;
        };
        let length = js::length(text);
        let mut valid = true;
        if let Some(min) = min.filter(|min| length < *min) {
            self.push(
                field,
                format!("String must contain at least {min} character(s)"),
                "too_small",
            );
            valid = false;
        }
        if let Some(max) = max.filter(|max| length > *max) {
            self.push(
                field,
                format!("String must contain at most {max} character(s)"),
                "too_big",
            );
            valid = false;
        }
        valid.then(|| text.clone())
    }

    /// A string that the WHATWG URL parser reads as an absolute URL (what
    /// zod's `url()` accepts: any scheme).
    pub(crate) fn url(&mut self, field: &str, value: Option<&Value>) -> Option<String> {
        let text = self.string(field, value, None, None)?;
        if reqwest::Url::parse(&text).is_err() {
            self.push(field, "Invalid url", "invalid_string");
            return None;
        }
        Some(text)
    }

    /// A number in `[min, max]`; `above` makes the lower bound exclusive.
    pub(crate) fn number(
        &mut self,
        field: &str,
        value: Option<&Value>,
        min: Option<f64>,
        max: Option<f64>,
        above: Option<f64>,
    ) -> Option<f64> {
        let Some(number) = value.and_then(Value::as_f64) else {
            self.wrong_type(field, "number", value);
            return None;
        };
        let mut valid = true;
        if let Some(min) = min.filter(|min| number < *min) {
            let min = js::number_text(min);
            self.push(
                field,
                format!("Number must be greater than or equal to {min}"),
                "too_small",
            );
            valid = false;
        }
        if let Some(above) = above.filter(|above| number <= *above) {
            let above = js::number_text(above);
            self.push(
                field,
                format!("Number must be greater than {above}"),
                "too_small",
            );
            valid = false;
        }
        if let Some(max) = max.filter(|max| number > *max) {
            let max = js::number_text(max);
            self.push(
                field,
                format!("Number must be less than or equal to {max}"),
                "too_big",
            );
            valid = false;
        }
        valid.then_some(number)
    }

    pub(crate) fn boolean(&mut self, field: &str, value: Option<&Value>) -> Option<bool> {
        match value {
            Some(Value::Bool(b)) => Some(*b),
            other => {
                self.wrong_type(field, "boolean", other);
                None
            }
        }
    }

    /// One of `options` (zod's `enum`): a string, one of them.
    pub(crate) fn one_of<S: AsRef<str>>(
        &mut self,
        field: &str,
        value: Option<&Value>,
        options: &[S],
    ) -> Option<String> {
        self.choice(field, value, options, false)
    }

    /// One of `options` (zod's `nativeEnum` of a string enum, which takes a
    /// number as a candidate too and only then finds it is not one).
    pub(crate) fn native_one_of<S: AsRef<str>>(
        &mut self,
        field: &str,
        value: Option<&Value>,
        options: &[S],
    ) -> Option<String> {
        self.choice(field, value, options, true)
    }

    fn choice<S: AsRef<str>>(
        &mut self,
        field: &str,
        value: Option<&Value>,
        options: &[S],
        numbers: bool,
    ) -> Option<String> {
        let listed = options
            .iter()
            .map(|option| format!("'{}'", option.as_ref()))
            .collect::<Vec<_>>()
            .join(" | ");
        let received = match value {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) if numbers => number.to_string(),
            other => {
                self.wrong_type(field, &listed, other);
                return None;
            }
        };
        if value.is_some_and(Value::is_string)
            && options.iter().any(|option| option.as_ref() == received)
        {
            return Some(received);
        }
        self.push(
            field,
            format!("Invalid enum value. Expected {listed}, received '{received}'"),
            "invalid_enum_value",
        );
        None
    }

    pub(crate) fn object<'v>(
        &mut self,
        field: &str,
        value: Option<&'v Value>,
    ) -> Option<&'v Map<String, Value>> {
        match value {
            Some(Value::Object(map)) => Some(map),
            other => {
                self.wrong_type(field, "object", other);
                None
            }
        }
    }

    /// An array of `min` to `max` items; the caller checks each item.
    pub(crate) fn array<'v>(
        &mut self,
        field: &str,
        value: Option<&'v Value>,
        min: Option<usize>,
        max: Option<usize>,
    ) -> Option<&'v [Value]> {
        let Some(Value::Array(items)) = value else {
            self.wrong_type(field, "array", value);
            return None;
        };
        if let Some(min) = min.filter(|min| items.len() < *min) {
            self.push(
                field,
                format!("Array must contain at least {min} element(s)"),
                "too_small",
            );
        }
        if let Some(max) = max.filter(|max| items.len() > *max) {
            self.push(
                field,
                format!("Array must contain at most {max} element(s)"),
                "too_big",
            );
        }
        Some(items)
    }

    /// An array whose items are all strings.
    pub(crate) fn strings(&mut self, field: &str, value: Option<&Value>) -> Option<Vec<String>> {
        let items = self.array(field, value, None, None)?;
        let before = self.issues.len();
        let strings: Vec<String> = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.string(&join(field, i), Some(item), None, None))
            .collect();
        (self.issues.len() == before).then_some(strings)
    }

    /// An object whose values are all strings (zod's `record(string())`).
    pub(crate) fn string_record(
        &mut self,
        field: &str,
        value: Option<&Value>,
    ) -> Option<Vec<(String, String)>> {
        let map = self.object(field, value)?;
        let before = self.issues.len();
        let pairs: Vec<(String, String)> = map
            .iter()
            .filter_map(|(key, item)| {
                self.string(&join(field, key), Some(item), None, None)
                    .map(|text| (key.clone(), text))
            })
            .collect();
        (self.issues.len() == before).then_some(pairs)
    }

    /// Whether any issue was found since `mark` (see [`Checker::mark`]).
    pub(crate) fn failed_since(&self, mark: usize) -> bool {
        self.issues.len() > mark
    }

    /// How many issues so far.
    pub(crate) fn mark(&self) -> usize {
        self.issues.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_codes_are_zods() {
        let mut checker = Checker::default();
        assert_eq!(checker.string("name", None, Some(1), None), None);
        assert_eq!(
            checker.string("name", Some(&json!("")), Some(1), None),
            None
        );
        assert_eq!(
            checker.number("timeout", Some(&json!(10)), Some(5000.0), None, None),
            None
        );
        assert_eq!(
            checker.number("timeout", Some(&json!("10")), None, None, None),
            None
        );
        assert_eq!(
            checker.one_of("status", Some(&json!("x")), &["a", "b"]),
            None
        );
        assert_eq!(
            checker.one_of("status", Some(&json!(true)), &["a", "b"]),
            None
        );
        assert_eq!(checker.one_of("status", Some(&json!(5)), &["a", "b"]), None);
        assert_eq!(
            checker.native_one_of("events.0", Some(&json!(5)), &["a", "b"]),
            None
        );
        assert_eq!(
            checker
                .array("events", Some(&json!([])), Some(1), None)
                .map(<[Value]>::len),
            Some(0)
        );
        let issues = checker.finish(()).unwrap_err();
        let seen: Vec<(&str, &str, &str)> = issues
            .iter()
            .map(|i| (i.field.as_str(), i.message.as_str(), i.code))
            .collect();
        assert_eq!(
            seen,
            [
                ("name", "Required", "invalid_type"),
                (
                    "name",
                    "String must contain at least 1 character(s)",
                    "too_small"
                ),
                (
                    "timeout",
                    "Number must be greater than or equal to 5000",
                    "too_small"
                ),
                (
                    "timeout",
                    "Expected number, received string",
                    "invalid_type"
                ),
                (
                    "status",
                    "Invalid enum value. Expected 'a' | 'b', received 'x'",
                    "invalid_enum_value"
                ),
                (
                    "status",
                    "Expected 'a' | 'b', received boolean",
                    "invalid_type"
                ),
                (
                    "status",
                    "Expected 'a' | 'b', received number",
                    "invalid_type"
                ),
                (
                    "events.0",
                    "Invalid enum value. Expected 'a' | 'b', received '5'",
                    "invalid_enum_value"
                ),
                (
                    "events",
                    "Array must contain at least 1 element(s)",
                    "too_small"
                ),
            ]
        );
    }

    #[test]
    fn urls_are_any_absolute_url() {
        let mut checker = Checker::default();
        assert!(checker
            .url("url", Some(&json!("http://127.0.0.1:3000/x")))
            .is_some());
        assert!(checker
            .url("url", Some(&json!("ftp://example.com")))
            .is_some());
        assert!(checker.url("url", Some(&json!("not a url"))).is_none());
        assert!(checker.url("url", Some(&json!("/relative"))).is_none());
        assert_eq!(checker.finish(()).unwrap_err().len(), 2);
    }
}
