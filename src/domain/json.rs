//! Event `data` exactly as sent (SPEC "Events and deliveries"): kept as its raw JSON text,
//! so that numbers keep every digit and objects their key order. `serde_json::Value`
//! would turn `12345678901234567890123` into a float and keep only the last of duplicate
//! keys. What needs the structure (duplicate keys refused, idempotency compared as JSON
//! values) walks the raw text one level at a time.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// One level of a JSON text: its members still raw.
enum Node {
    Object(Vec<(String, Box<RawValue>)>),
    Array(Vec<Box<RawValue>>),
    String(String),
    /// a number, `true`, `false` or `null`, as written
    Literal(String),
}

fn node(raw: &RawValue) -> serde_json::Result<Node> {
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'{') => Ok(Node::Object(serde_json::from_str::<Members>(text)?.0)),
        Some(b'[') => Ok(Node::Array(serde_json::from_str(text)?)),
        Some(b'"') => Ok(Node::String(serde_json::from_str(text)?)),
        _ => Ok(Node::Literal(text.to_owned())),
    }
}

/// An object's members in order, duplicates included.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Members, A::Error> {
                Err(serde::de::Error::custom("expected an object"))
            }
        }
        d.deserialize_map(V)
    }
}

/// The dotted path (under `path`) of the first object that holds a key twice.
pub fn duplicate_key(raw: &RawValue, path: &str) -> Option<String> {
    match node(raw).ok()? {
        Node::Object(members) => {
            let mut seen = std::collections::HashSet::with_capacity(members.len());
            for (key, _) in &members {
                if !seen.insert(key.as_str()) {
                    return Some(format!("{path}.{key}"));
                }
            }
            members.iter().find_map(|(key, value)| duplicate_key(value, &format!("{path}.{key}")))
        }
        Node::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| duplicate_key(item, &format!("{path}[{i}]")))
        }
        Node::String(_) | Node::Literal(_) => None,
    }
}

/// Whether two JSON texts hold the same value: key order and insignificant whitespace do
/// not matter, strings compare decoded, numbers compare as written (so `1` and `1.0`
/// differ, as do two integers beyond what a float tells apart).
pub fn same_value(a: &RawValue, b: &RawValue) -> bool {
    let (Ok(a), Ok(b)) = (node(a), node(b)) else { return false };
    match (a, b) {
        (Node::Object(a), Node::Object(b)) => {
            let a: BTreeMap<String, Box<RawValue>> = a.into_iter().collect();
            let b: BTreeMap<String, Box<RawValue>> = b.into_iter().collect();
            a.len() == b.len() && a.iter().zip(&b).all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
        }
        (Node::Array(a), Node::Array(b)) => a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| same_value(x, y)),
        (Node::String(a), Node::String(b)) => a == b,
        (Node::Literal(a), Node::Literal(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_owned()).unwrap()
    }

    #[test]
    fn duplicate_keys_are_found_at_any_depth() {
        assert_eq!(duplicate_key(&raw(r#"{"a":1,"a":2}"#), "data"), Some("data.a".into()));
        assert_eq!(duplicate_key(&raw(r#"{"x":[{"b":1},{"c":1,"c":1}]}"#), "data"), Some("data.x[1].c".into()));
        assert_eq!(duplicate_key(&raw(r#"{"a":{"a":1},"b":"a"}"#), "data"), None);
        assert_eq!(duplicate_key(&raw("12"), "data"), None);
    }

    #[test]
    fn values_compare_structurally_with_numbers_as_written() {
        assert!(same_value(&raw(r#"{"a":1,"b":[true,null]}"#), &raw(r#"{ "b" : [true, null], "a" : 1 }"#)));
        assert!(same_value(&raw(r#""\u0041""#), &raw(r#""A""#)));
        assert!(!same_value(&raw("12345678901234567890123"), &raw("12345678901234567890124")));
        assert!(!same_value(&raw(r#"{"a":1}"#), &raw(r#"{"a":1,"b":2}"#)));
        assert!(!same_value(&raw("[1,2]"), &raw("[2,1]")));
        assert!(!same_value(&raw("1"), &raw(r#""1""#)));
    }
}

/// A JSON integer as JSON Schema counts one: `10` and `10.0` alike (a number with no
/// fractional part), so that a request the OpenAPI description calls valid is not refused
/// for how it spells a whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Integer(pub i64);

impl<'de> Deserialize<'de> for Integer {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Integer, D::Error> {
        struct Whole;
        impl Visitor<'_> for Whole {
            type Value = Integer;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Integer, E> {
                Ok(Integer(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Integer, E> {
                i64::try_from(v).map(Integer).map_err(|_| E::custom("integer out of range"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Integer, E> {
                // 2^63 is the first f64 past i64::MAX
                if v.fract() == 0.0 && v.abs() < 9_223_372_036_854_775_808.0 {
                    Ok(Integer(v as i64))
                } else {
                    Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(Whole)
    }
}

#[cfg(test)]
mod integer_tests {
    use super::Integer;

    #[test]
    fn whole_numbers_in_any_spelling_are_integers() {
        for (text, want) in [("10", 10), ("10.0", 10), ("-3", -3), ("1e3", 1000)] {
            assert_eq!(serde_json::from_str::<Integer>(text).ok(), Some(Integer(want)), "{text}");
        }
        for text in ["10.5", "\"10\"", "true", "1e300"] {
            assert!(serde_json::from_str::<Integer>(text).is_err(), "{text}");
        }
    }
}
