//! A borrowed JSON tree for template analysis: strings point into the text it was parsed
//! from (or into a [`serde_json::Value`]), objects are vectors in document order. Parsing
//! a template into it copies no string without escapes and hashes nothing, so diffing two
//! 15 MB templates spends its time comparing, not allocating.
//!
//! Objects compare as JSON objects (key order does not matter). An object holds each key
//! once: of duplicate keys in a text the last value wins, in the first one's place, as in
//! [`serde_json::Value`].

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Number, Value};

/// A JSON value borrowing its strings where it can.
#[derive(Clone, Debug)]
pub enum Node<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as [`serde_json`] reads it.
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Node<'a>>),
    /// An object's entries in document order.
    Object(Vec<(Cow<'a, str>, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// Parses `text`, borrowing every string that has no escape sequence.
    pub fn parse(text: &'a str) -> Result<Node<'a>, serde_json::Error> {
        let mut de = serde_json::Deserializer::from_str(text);
        let node = Node::deserialize(&mut de)?;
        de.end()?;
        Ok(node)
    }

    /// A view of `value` that borrows all of its strings.
    pub fn from_value(value: &'a Value) -> Node<'a> {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(Cow::Borrowed(s)),
            Value::Array(a) => Node::Array(a.iter().map(Node::from_value).collect()),
            Value::Object(m) => Node::Object(
                m.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Node::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// An owned [`Value`] with the same content.
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.as_ref().to_owned()),
            Node::Array(a) => Value::Array(a.iter().map(Node::to_value).collect()),
            Node::Object(entries) => {
                let mut m = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    m.insert(k.as_ref().to_owned(), v.to_value());
                }
                Value::Object(m)
            }
        }
    }

    /// The value of `key` when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|e| &e.1),
            _ => None,
        }
    }

    /// The same tree owning all of its strings.
    pub fn into_owned(self) -> Node<'static> {
        match self {
            Node::Null => Node::Null,
            Node::Bool(b) => Node::Bool(b),
            Node::Number(n) => Node::Number(n),
            Node::String(s) => Node::String(Cow::Owned(s.into_owned())),
            Node::Array(a) => Node::Array(a.into_iter().map(Node::into_owned).collect()),
            Node::Object(entries) => Node::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// The entries, when this is an object.
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Node<'a>)]> {
        match self {
            Node::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// Whether this is an intrinsic function call (`{"Ref": …}`, `{"Fn::…": …}`).
    pub fn is_intrinsic(&self) -> bool {
        match self {
            Node::Object(entries) => {
                entries.len() == 1 && (entries[0].0 == "Ref" || entries[0].0.starts_with("Fn::"))
            }
            _ => false,
        }
    }
}

/// An object's entries sorted by key.
pub fn sorted_entries<'n, 'a>(
    entries: &'n [(Cow<'a, str>, Node<'a>)],
) -> Vec<(&'n str, &'n Node<'a>)> {
    let mut sorted: Vec<(&str, &Node<'a>)> = entries.iter().map(|(k, v)| (k.as_ref(), v)).collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    sorted
}

/// The sorted entries of `node` when it is an object, else none.
pub fn entries_sorted<'n, 'a>(node: Option<&'n Node<'a>>) -> Vec<(&'n str, &'n Node<'a>)> {
    node.and_then(Node::as_object)
        .map(sorted_entries)
        .unwrap_or_default()
}

/// Whether two objects have the same keys in the same order (then they can be walked
/// side by side without sorting).
pub fn same_keys(a: &[(Cow<'_, str>, Node<'_>)], b: &[(Cow<'_, str>, Node<'_>)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.0 == y.0)
}

/// The keys of two sorted entry lists in order, each with its value on either side.
pub fn merge<'n, 'a>(
    old: &[(&'n str, &'n Node<'a>)],
    new: &[(&'n str, &'n Node<'a>)],
) -> Vec<(&'n str, Option<&'n Node<'a>>, Option<&'n Node<'a>>)> {
    let mut out = Vec::with_capacity(old.len().max(new.len()));
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let next = match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) => o.0.cmp(n.0),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match next {
            std::cmp::Ordering::Less => {
                out.push((old[i].0, Some(old[i].1), None));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push((new[j].0, None, Some(new[j].1)));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((old[i].0, Some(old[i].1), Some(new[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    out
}

impl PartialEq for Node<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Node::Null, Node::Null) => true,
            (Node::Bool(a), Node::Bool(b)) => a == b,
            (Node::Number(a), Node::Number(b)) => a == b,
            (Node::String(a), Node::String(b)) => a == b,
            (Node::Array(a), Node::Array(b)) => a == b,
            (Node::Object(a), Node::Object(b)) => {
                // Same keys in the same order is the common case (two serializations of
                // one template); anything else compares as maps.
                if same_keys(a, b) {
                    a.iter().zip(b).all(|(x, y)| x.1 == y.1)
                } else {
                    a.len() == b.len() && sorted_entries(a) == sorted_entries(b)
                }
            }
            _ => false,
        }
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => serializer.serialize_unit(),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Number(n) => n.serialize(serializer),
            Node::String(s) => serializer.serialize_str(s),
            Node::Array(a) => serializer.collect_seq(a),
            Node::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

/// Compact JSON, as `serde_json::Value`'s `Display` writes it.
impl fmt::Display for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

/// Object size from which duplicate keys are found through a hash index.
const INDEX_FROM: usize = 32;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node<'de>, E> {
        Ok(Number::from_f64(v).map_or(Node::Null, Node::Number))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut entries: Vec<(Cow<'de, str>, Node<'de>)> = Vec::new();
        let mut index: Option<HashMap<Cow<'de, str>, usize>> = None;
        while let Some((Key(k), v)) = map.next_entry()? {
            // Small objects (nearly all) look for a duplicate key by scanning; large ones
            // (a template's Resources) through an index built once they grow.
            if entries.len() == INDEX_FROM {
                index = Some(
                    entries
                        .iter()
                        .enumerate()
                        .map(|(i, (k, _))| (k.clone(), i))
                        .collect(),
                );
            }
            let existing = match &mut index {
                Some(index) => match index.get(&k) {
                    Some(i) => Some(*i),
                    None => {
                        index.insert(k.clone(), entries.len());
                        None
                    }
                },
                None => entries.iter().position(|(e, _)| *e == k),
            };
            match existing {
                Some(i) => entries[i].1 = v,
                None => entries.push((k, v)),
            }
        }
        Ok(Node::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_borrowing_plain_strings_and_owning_escaped_ones() {
        let text = r#"{"a": "plain", "b\"": "esc\naped", "n": [1, -2, 2.5, true, null]}"#;
        let node = Node::parse(text).expect("parse");
        let entries = node.as_object().expect("object");
        assert!(matches!(entries[0].0, Cow::Borrowed("a")));
        assert!(matches!(entries[0].1, Node::String(Cow::Borrowed("plain"))));
        assert!(matches!(entries[1].0, Cow::Owned(ref k) if k == "b\""));
        assert_eq!(node.get("b\"").and_then(Node::as_str), Some("esc\naped"));
        let value: Value = serde_json::from_str(text).expect("value");
        assert_eq!(node.to_value(), value);
        assert_eq!(Node::from_value(&value), node);
    }

    #[test]
    fn objects_compare_as_maps() {
        let a = Node::parse(r#"{"x": 1, "y": {"p": [1, 2]}}"#).expect("a");
        let b = Node::parse(r#"{"y": {"p": [1, 2]}, "x": 1}"#).expect("b");
        let c = Node::parse(r#"{"y": {"p": [2, 1]}, "x": 1}"#).expect("c");
        assert_eq!(a, b);
        assert_ne!(a, c);
        // The last of duplicate keys wins in the first one's place, as in serde_json::Value.
        let dup = Node::parse(r#"{"x": 0, "y": {"p": [1, 2]}, "x": 1}"#).expect("dup");
        assert_eq!(dup.as_object().expect("obj").len(), 2);
        assert_eq!(dup.get("x"), Some(&Node::Number(1.into())));
        assert_eq!(
            dup,
            Node::parse(r#"{"x": 1, "y": {"p": [1, 2]}}"#).expect("x")
        );
        assert_eq!(dup.to_string(), r#"{"x":1,"y":{"p":[1,2]}}"#);
        // Large objects find duplicates through their index.
        let mut big: Vec<String> = (0..100).map(|i| format!("\"k{i}\": {i}")).collect();
        big.push("\"k7\": \"last\"".to_owned());
        let big_text = format!("{{{}}}", big.join(","));
        let big = Node::parse(&big_text).expect("big");
        assert_eq!(big.as_object().expect("big").len(), 100);
        assert_eq!(big.get("k7").and_then(Node::as_str), Some("last"));
        assert_eq!(
            big.to_value(),
            serde_json::from_str::<Value>(&big_text).expect("value")
        );
    }

    #[test]
    fn rejects_trailing_text_and_merges_sorted_keys() {
        assert!(Node::parse("{} x").is_err());
        let old = Node::parse(r#"{"a": 1, "c": 3}"#).expect("old");
        let new = Node::parse(r#"{"b": 2, "c": 4}"#).expect("new");
        let o = sorted_entries(old.as_object().expect("o"));
        let n = sorted_entries(new.as_object().expect("n"));
        let keys: Vec<(&str, bool, bool)> = merge(&o, &n)
            .into_iter()
            .map(|(k, a, b)| (k, a.is_some(), b.is_some()))
            .collect();
        assert_eq!(
            keys,
            [("a", true, false), ("b", false, true), ("c", true, true)]
        );
    }
}
