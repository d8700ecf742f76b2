//! A product's attributes: what a document store would hold free-form (`brand`,
//! `material`, `sizes`), kept as a JSONB object whose values stay simple enough
//! to filter and facet on (section 2 of the issue).

use serde_json::{Map, Value};

use common::FieldErrors;

pub const MAX_ATTRIBUTES: usize = 50;
/// The object's size as compact JSON.
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attributes(Map<String, Value>);

impl Attributes {
    /// At most 50 names of 1-64 characters (no control characters, not only
    /// white space), each a string, a number, a boolean or an array of strings,
    /// and 16 KB as JSON. The errors name `attributes` or `attributes.<name>`.
    pub fn parse(map: Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        if map.len() > MAX_ATTRIBUTES {
            errors.add(
                "attributes",
                format!("must have at most {MAX_ATTRIBUTES} names"),
            );
        }
        for (name, value) in &map {
            if common::domain::bounded_text(name, MAX_ATTRIBUTE_NAME_CHARS).as_deref()
                != Ok(name.as_str())
            {
                errors.add(
                    "attributes",
                    format!(
                        "names must be 1-{MAX_ATTRIBUTE_NAME_CHARS} characters without control characters or white space at the ends"
                    ),
                );
                continue;
            }
            let simple = match value {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
                Value::Array(items) => items.iter().all(Value::is_string),
                Value::Null | Value::Object(_) => false,
            };
            if !simple {
                errors.add(
                    format!("attributes.{name}"),
                    "must be a string, a number, a boolean or an array of strings",
                );
                continue;
            }
            // PostgreSQL's jsonb cannot hold U+0000: refused here (422), not
            // by the database (400).
            let holds_nul = match value {
                Value::String(text) => text.contains('\0'),
                Value::Array(items) => items
                    .iter()
                    .any(|item| item.as_str().is_some_and(|t| t.contains('\0'))),
                _ => false,
            };
            if holds_nul {
                errors.add(
                    format!("attributes.{name}"),
                    "must not contain NUL characters",
                );
            }
        }
        let size = serde_json::to_vec(&map).map_or(usize::MAX, |bytes| bytes.len());
        if size > MAX_ATTRIBUTES_BYTES {
            errors.add(
                "attributes",
                format!("must be at most {MAX_ATTRIBUTES_BYTES} bytes as JSON"),
            );
        }
        if errors.is_empty() {
            Ok(Self(map))
        } else {
            Err(errors)
        }
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

/// The OpenAPI schema of attributes (utoipa cannot say "one of these value
/// types" from the Rust type).
pub fn schema() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
    let of = |t: Type| ObjectBuilder::new().schema_type(t);
    let text = || of(Type::String).pattern(Some("^[^\\u0000]*$"));
    let value = OneOfBuilder::new()
        .item(text())
        .item(of(Type::Number))
        .item(of(Type::Boolean))
        .item(ArrayBuilder::new().items(text()))
        .build();
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "Free-form attributes: at most 50 names of 1-64 characters, each a string, a number, a boolean or an array of strings; at most 16 KB as JSON",
        ))
        .max_properties(Some(MAX_ATTRIBUTES))
        .additional_properties(Some(Schema::OneOf(value)))
        .build()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<Attributes, FieldErrors> {
        let Value::Object(map) = value else {
            panic!("an object")
        };
        Attributes::parse(map)
    }

    #[test]
    fn simple_values_are_taken() {
        let attrs = json!({"brand": "Acme", "weight": 1.5, "vegan": true, "sizes": ["S", "M"]});
        assert_eq!(parse(attrs.clone()).unwrap().into_value(), attrs);
    }

    #[test]
    fn nested_null_and_mixed_values_are_refused_by_name() {
        let errors =
            parse(json!({"a": {"b": 1}, "c": null, "d": [1, "x"], "ok": "y"})).unwrap_err();
        let fields: Vec<&String> = errors.0.keys().collect();
        assert_eq!(fields, ["attributes.a", "attributes.c", "attributes.d"]);
    }

    #[test]
    fn names_count_and_size_are_bounded() {
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(parse(Value::Object(many)).is_err());
        let fifty: Map<String, Value> = (0..50).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(parse(Value::Object(fifty)).is_ok());
        assert!(parse(json!({"big": "x".repeat(MAX_ATTRIBUTES_BYTES)})).is_err());
        assert!(parse(json!({"": "x"})).is_err());
        assert!(parse(json!({" padded": "x"})).is_err());
        let mut long = Map::new();
        long.insert("x".repeat(65), json!("x"));
        assert!(parse(Value::Object(long)).is_err());
    }
}
