//! CloudFormation values: JSON data mixed with intrinsic functions.
//!
//! [`Value`] is the untyped form every property ends up as; [`Expr<T>`] is the typed
//! wrapper the generated resource types use, so a string property only takes strings
//! (or an intrinsic that yields one).

use std::collections::BTreeMap;
use std::marker::PhantomData;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Key under which a reference records the stack its target lives in, until synthesis
/// resolves it (same stack: removed; other stack: replaced by an export/import pair).
pub(crate) const STACK_MARKER: &str = "frugal:stack";

/// An untyped CloudFormation value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// An object with stable (sorted) key order.
    Map(BTreeMap<String, Value>),
    /// An intrinsic function.
    Intrinsic(Box<Intrinsic>),
}

/// The target of a `Ref` or `Fn::GetAtt`: a logical id in a named stack.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LogicalRef {
    /// Name of the stack that declares the target.
    pub stack: String,
    /// Logical id of the resource or parameter.
    pub logical_id: String,
}

/// AWS pseudo parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pseudo {
    /// `AWS::AccountId`
    AccountId,
    /// `AWS::Region`
    Region,
    /// `AWS::Partition`
    Partition,
    /// `AWS::StackName`
    StackName,
    /// `AWS::StackId`
    StackId,
    /// `AWS::URLSuffix`
    UrlSuffix,
    /// `AWS::NoValue`
    NoValue,
}

impl Pseudo {
    /// The name CloudFormation uses for this pseudo parameter.
    pub fn name(self) -> &'static str {
        match self {
            Pseudo::AccountId => "AWS::AccountId",
            Pseudo::Region => "AWS::Region",
            Pseudo::Partition => "AWS::Partition",
            Pseudo::StackName => "AWS::StackName",
            Pseudo::StackId => "AWS::StackId",
            Pseudo::UrlSuffix => "AWS::URLSuffix",
            Pseudo::NoValue => "AWS::NoValue",
        }
    }
}

/// CloudFormation intrinsic functions.
#[derive(Clone, Debug, PartialEq)]
pub enum Intrinsic {
    /// `Ref` to a resource or parameter.
    Ref(LogicalRef),
    /// `Ref` to a pseudo parameter.
    Pseudo(Pseudo),
    /// `Fn::GetAtt` on a resource attribute.
    GetAtt(LogicalRef, String),
    /// `Fn::Sub` with a template string and explicit variables.
    Sub(String, BTreeMap<String, Value>),
    /// `Fn::Join`.
    Join(String, Vec<Value>),
    /// `Fn::Select`.
    Select(u32, Value),
    /// `Fn::Split`.
    Split(String, Value),
    /// `Fn::If` on a named condition.
    If(String, Value, Value),
    /// `Fn::ImportValue`.
    ImportValue(Value),
    /// `Fn::GetAZs`.
    GetAzs(Value),
    /// `Fn::Equals` (for conditions).
    Equals(Value, Value),
    /// `Fn::Not` (for conditions).
    Not(Value),
}

impl Value {
    /// Wraps an intrinsic.
    pub fn intrinsic(i: Intrinsic) -> Value {
        Value::Intrinsic(Box::new(i))
    }

    /// A map value from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The string, if this is a literal string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Converts plain JSON into a value (no intrinsics are interpreted).
    pub fn from_json(json: serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or_default()),
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => {
                Value::List(a.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(o) => Value::Map(
                o.into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}
impl<T> From<Expr<T>> for Value {
    fn from(e: Expr<T>) -> Self {
        e.value
    }
}
impl From<serde_json::Value> for Value {
    fn from(j: serde_json::Value) -> Self {
        Value::from_json(j)
    }
}

/// Serializes a single-key object `{name: value}`.
fn single<S: Serializer, V: Serialize + ?Sized>(
    s: S,
    name: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry(name, value)?;
    m.end()
}

/// Serializes a reference with its stack marker (resolved at synthesis).
fn reference<S: Serializer, V: Serialize + ?Sized>(
    s: S,
    name: &str,
    value: &V,
    stack: &str,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(2))?;
    m.serialize_entry(name, value)?;
    m.serialize_entry(STACK_MARKER, stack)?;
    m.end()
}

struct Pair<'a, A: ?Sized, B: ?Sized>(&'a A, &'a B);
impl<A: Serialize + ?Sized, B: Serialize + ?Sized> Serialize for Pair<'_, A, B> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(self.0)?;
        seq.serialize_element(self.1)?;
        seq.end()
    }
}

struct Triple<'a>(&'a str, &'a Value, &'a Value);
impl Serialize for Triple<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(3))?;
        seq.serialize_element(self.0)?;
        seq.serialize_element(self.1)?;
        seq.serialize_element(self.2)?;
        seq.end()
    }
}

impl Serialize for Intrinsic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Intrinsic::Ref(r) => reference(s, "Ref", &r.logical_id, &r.stack),
            Intrinsic::Pseudo(p) => single(s, "Ref", p.name()),
            Intrinsic::GetAtt(r, attr) => reference(
                s,
                "Fn::GetAtt",
                &Pair(r.logical_id.as_str(), attr.as_str()),
                &r.stack,
            ),
            Intrinsic::Sub(template, vars) if vars.is_empty() => single(s, "Fn::Sub", template),
            Intrinsic::Sub(template, vars) => single(s, "Fn::Sub", &Pair(template.as_str(), vars)),
            Intrinsic::Join(delim, values) => single(s, "Fn::Join", &Pair(delim.as_str(), values)),
            Intrinsic::Select(index, list) => {
                single(s, "Fn::Select", &Pair(&index.to_string(), list))
            }
            Intrinsic::Split(delim, source) => {
                single(s, "Fn::Split", &Pair(delim.as_str(), source))
            }
            Intrinsic::If(cond, a, b) => single(s, "Fn::If", &Triple(cond, a, b)),
            Intrinsic::ImportValue(v) => single(s, "Fn::ImportValue", v),
            Intrinsic::GetAzs(v) => single(s, "Fn::GetAZs", v),
            Intrinsic::Equals(a, b) => single(s, "Fn::Equals", &Pair(a, b)),
            Intrinsic::Not(v) => single(s, "Fn::Not", &[v]),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            // Whole numbers print as integers (`1`, not `1.0`), as CloudFormation shows them.
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => s.serialize_i64(*f as i64),
            Value::Float(f) => s.serialize_f64(*f),
            Value::String(v) => s.serialize_str(v),
            Value::List(l) => l.serialize(s),
            Value::Map(m) => m.serialize(s),
            Value::Intrinsic(i) => i.serialize(s),
        }
    }
}

/// Values that can stand as a literal of a typed [`Expr`].
///
/// Implemented for the primitive types and for the enums generated from the resource
/// schemas; an `Expr<T>` accepts a `T` or an intrinsic.
pub trait Literal {
    /// The untyped form of this literal.
    fn into_value(self) -> Value;
}

impl Literal for String {
    fn into_value(self) -> Value {
        Value::String(self)
    }
}
impl Literal for i64 {
    fn into_value(self) -> Value {
        Value::Int(self)
    }
}
impl Literal for f64 {
    fn into_value(self) -> Value {
        Value::Float(self)
    }
}
impl Literal for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

/// A typed CloudFormation value: a literal `T` or an intrinsic that yields one.
pub struct Expr<T> {
    value: Value,
    kind: PhantomData<fn() -> T>,
}

impl<T> Expr<T> {
    /// Wraps an untyped value; the caller vouches that it yields a `T`.
    pub fn from_value(value: Value) -> Self {
        Expr {
            value,
            kind: PhantomData,
        }
    }

    /// The untyped value.
    pub fn as_value(&self) -> &Value {
        &self.value
    }

    /// Converts into the untyped value.
    pub fn into_value(self) -> Value {
        self.value
    }

    /// Reinterprets the expression as another type (for intrinsics whose result type
    /// the type system cannot see, e.g. a `Ref` to a number parameter).
    pub fn cast<U>(self) -> Expr<U> {
        Expr::from_value(self.value)
    }
}

impl<T> Clone for Expr<T> {
    fn clone(&self) -> Self {
        Expr::from_value(self.value.clone())
    }
}
impl<T> std::fmt::Debug for Expr<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value.fmt(f)
    }
}
impl<T> PartialEq for Expr<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T> Serialize for Expr<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<T: Literal> From<T> for Expr<T> {
    fn from(v: T) -> Self {
        Expr::from_value(v.into_value())
    }
}
impl From<&str> for Expr<String> {
    fn from(v: &str) -> Self {
        Expr::from_value(Value::String(v.to_owned()))
    }
}
impl From<&String> for Expr<String> {
    fn from(v: &String) -> Self {
        Expr::from_value(Value::String(v.clone()))
    }
}
impl From<i32> for Expr<i64> {
    fn from(v: i32) -> Self {
        Expr::from_value(Value::Int(v.into()))
    }
}
impl From<u32> for Expr<i64> {
    fn from(v: u32) -> Self {
        Expr::from_value(Value::Int(v.into()))
    }
}
impl From<u16> for Expr<i64> {
    fn from(v: u16) -> Self {
        Expr::from_value(Value::Int(v.into()))
    }
}
impl From<i32> for Expr<f64> {
    fn from(v: i32) -> Self {
        Expr::from_value(Value::Float(v.into()))
    }
}
impl<U, X: Into<Expr<U>>> From<Vec<X>> for Expr<Vec<Expr<U>>> {
    fn from(items: Vec<X>) -> Self {
        Expr::from_value(Value::List(
            items.into_iter().map(|x| x.into().value).collect(),
        ))
    }
}
impl<U, X: Into<Expr<U>> + Clone, const N: usize> From<[X; N]> for Expr<Vec<Expr<U>>> {
    fn from(items: [X; N]) -> Self {
        Expr::from_value(Value::List(
            items.into_iter().map(|x| x.into().value).collect(),
        ))
    }
}

/// Typed constructors for intrinsic functions.
pub mod fns {
    use super::*;

    /// `Fn::Sub` with explicit variables (preferred: references stay typed and checked).
    pub fn sub<T>(
        template: impl Into<String>,
        vars: impl IntoIterator<Item = (&'static str, Value)>,
    ) -> Expr<T> {
        Expr::from_value(Value::intrinsic(Intrinsic::Sub(
            template.into(),
            vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        )))
    }

    /// `Fn::Join`.
    pub fn join(
        delimiter: impl Into<String>,
        parts: impl IntoIterator<Item = Value>,
    ) -> Expr<String> {
        Expr::from_value(Value::intrinsic(Intrinsic::Join(
            delimiter.into(),
            parts.into_iter().collect(),
        )))
    }

    /// `Fn::Select` of one element of a list.
    pub fn select<T>(index: u32, list: Expr<Vec<Expr<T>>>) -> Expr<T> {
        Expr::from_value(Value::intrinsic(Intrinsic::Select(
            index,
            list.into_value(),
        )))
    }

    /// `Fn::Split` of a string into a list.
    pub fn split(delimiter: impl Into<String>, source: Expr<String>) -> Expr<Vec<Expr<String>>> {
        Expr::from_value(Value::intrinsic(Intrinsic::Split(
            delimiter.into(),
            source.into_value(),
        )))
    }

    /// `Fn::If` on a condition declared in the stack.
    pub fn if_<T>(condition: impl Into<String>, then: Expr<T>, otherwise: Expr<T>) -> Expr<T> {
        Expr::from_value(Value::intrinsic(Intrinsic::If(
            condition.into(),
            then.into_value(),
            otherwise.into_value(),
        )))
    }

    /// `Fn::ImportValue` of an export by name.
    pub fn import_value<T>(export_name: Expr<String>) -> Expr<T> {
        Expr::from_value(Value::intrinsic(Intrinsic::ImportValue(
            export_name.into_value(),
        )))
    }

    /// `Fn::GetAZs` for the stack's region.
    pub fn get_azs() -> Expr<Vec<Expr<String>>> {
        Expr::from_value(Value::intrinsic(Intrinsic::GetAzs(Value::String(
            String::new(),
        ))))
    }

    /// A pseudo parameter.
    pub fn pseudo(p: Pseudo) -> Expr<String> {
        Expr::from_value(Value::intrinsic(Intrinsic::Pseudo(p)))
    }

    /// `AWS::AccountId`.
    pub fn account_id() -> Expr<String> {
        pseudo(Pseudo::AccountId)
    }

    /// `AWS::Region`.
    pub fn region() -> Expr<String> {
        pseudo(Pseudo::Region)
    }

    /// `AWS::Partition`.
    pub fn partition() -> Expr<String> {
        pseudo(Pseudo::Partition)
    }

    /// `AWS::StackName`.
    pub fn stack_name() -> Expr<String> {
        pseudo(Pseudo::StackName)
    }

    /// `AWS::URLSuffix`.
    pub fn url_suffix() -> Expr<String> {
        pseudo(Pseudo::UrlSuffix)
    }

    /// `Fn::Equals`, for a condition.
    pub fn equals(a: impl Into<Value>, b: impl Into<Value>) -> Value {
        Value::intrinsic(Intrinsic::Equals(a.into(), b.into()))
    }

    /// `Fn::Not`, for a condition.
    pub fn not(v: Value) -> Value {
        Value::intrinsic(Intrinsic::Not(v))
    }
}
