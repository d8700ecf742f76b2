//! Options and the variants' choices among them: a shirt has the options
//! `Size: [S, M, L]` and `Color: [Red, Blue]`, and each variant names one value
//! of each (`{"Size": "M", "Color": "Red"}`), no two the same combination.

use std::collections::{BTreeMap, HashSet};

use common::FieldErrors;
use serde::{Deserialize, Serialize};

pub const MAX_OPTIONS: usize = 3;
pub const MAX_OPTION_VALUES: usize = 100;
pub const MAX_OPTION_NAME_CHARS: usize = 50;
pub const MAX_OPTION_VALUE_CHARS: usize = 100;

/// Option name to the value a variant has.
pub type OptionValues = BTreeMap<String, String>;

/// One option of a product, as stored (JSONB) and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProductOption {
    /// 1-50 characters, unique among the product's options whatever the case.
    #[schema(format = "text", max_length = 50)]
    pub name: String,
    /// 1-100 values of 1-100 characters, unique whatever the case, in display order.
    #[schema(min_items = 1, max_items = 100)]
    pub values: Vec<String>,
}

impl ProductOption {
    /// Options as sent (`name`, `values` of each), checked: at most three,
    /// names and values trimmed, unique whatever the case. The errors name
    /// `options` or `options[i].name` / `options[i].values`.
    pub fn parse_all(
        raw: Vec<(Option<String>, Option<Vec<String>>)>,
    ) -> Result<Vec<Self>, FieldErrors> {
        let mut errors = FieldErrors::new();
        if raw.len() > MAX_OPTIONS {
            errors.add(
                "options",
                format!("must have at most {MAX_OPTIONS} options"),
            );
        }
        let mut names = HashSet::new();
        let mut out = Vec::with_capacity(raw.len());
        for (i, (name, values)) in raw.into_iter().enumerate() {
            let name = match name.map(|n| common::domain::bounded_text(&n, MAX_OPTION_NAME_CHARS)) {
                None => {
                    errors.add(format!("options[{i}].name"), "is required");
                    None
                }
                Some(Err(e)) => {
                    errors.add(format!("options[{i}].name"), e);
                    None
                }
                Some(Ok(name)) if !names.insert(name.to_lowercase()) => {
                    errors.add(
                        format!("options[{i}].name"),
                        "is the name of another option",
                    );
                    None
                }
                Some(Ok(name)) => Some(name),
            };
            let values = match values {
                None => {
                    errors.add(format!("options[{i}].values"), "is required");
                    None
                }
                Some(values) => parse_values(values)
                    .map_err(|e| errors.add(format!("options[{i}].values"), e))
                    .ok(),
            };
            if let (Some(name), Some(values)) = (name, values) {
                out.push(Self { name, values });
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// The schema of an option's `values`, each value's bounds included (the
/// document said them in words only, so a schema-valid `""` was refused).
/// Uniqueness ignores case and surrounding blanks, which no schema says.
pub fn values_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaFormat, Type};
    let value = ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::Custom("text".to_owned())))
        .max_length(Some(MAX_OPTION_VALUE_CHARS));
    ArrayBuilder::new()
        .items(value)
        .description(Some(format!(
            "1-{MAX_OPTION_VALUES} values of 1-{MAX_OPTION_VALUE_CHARS} characters, unique whatever the case."
        )))
        .min_items(Some(1))
        .max_items(Some(MAX_OPTION_VALUES))
        .unique_items(true)
        .build()
}

fn parse_values(raw: Vec<String>) -> Result<Vec<String>, String> {
    if raw.is_empty() || raw.len() > MAX_OPTION_VALUES {
        return Err(format!("must have 1 to {MAX_OPTION_VALUES} values"));
    }
    let mut seen = HashSet::new();
    raw.iter()
        .map(|v| {
            let value = common::domain::bounded_text(v, MAX_OPTION_VALUE_CHARS)
                .map_err(|e| format!("each value {e}"))?;
            if seen.insert(value.to_lowercase()) {
                Ok(value)
            } else {
                Err(format!("lists {value:?} twice"))
            }
        })
        .collect()
}

/// Whether `values` names exactly one value of each of `options`: `Ok`, or
/// what is wrong.
pub fn check_values(options: &[ProductOption], values: &OptionValues) -> Result<(), String> {
    let expected: Vec<&str> = options.iter().map(|o| o.name.as_str()).collect();
    let named_all =
        values.len() == options.len() && options.iter().all(|o| values.contains_key(&o.name));
    if !named_all {
        return Err(if expected.is_empty() {
            "must be empty: the product has no options".to_owned()
        } else {
            format!(
                "must name one value of each option: {}",
                expected.join(", ")
            )
        });
    }
    for option in options {
        let value = values
            .get(&option.name)
            .map(String::as_str)
            .unwrap_or_default();
        if !option.values.iter().any(|v| v == value) {
            return Err(format!(
                "{}: {value:?} is not one of {}",
                option.name,
                option.values.join(", ")
            ));
        }
    }
    Ok(())
}

/// The index of the first combination that an earlier one already has.
pub fn check_combination<'a>(all: impl IntoIterator<Item = &'a OptionValues>) -> Option<usize> {
    let mut seen = HashSet::new();
    all.into_iter().position(|values| !seen.insert(values))
}

/// A variant's title when it has none of its own: its values in the order of
/// the options ("M / Red"), or "Default" for the one variant of a product
/// without options.
pub fn default_variant_title(options: &[ProductOption], values: &OptionValues) -> String {
    let parts: Vec<&str> = options
        .iter()
        .filter_map(|o| values.get(&o.name).map(String::as_str))
        .collect();
    if parts.is_empty() {
        "Default".to_owned()
    } else {
        parts.join(" / ")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn shirt() -> Vec<ProductOption> {
        ProductOption::parse_all(vec![
            (Some(" Size ".into()), Some(vec!["S".into(), "M".into()])),
            (
                Some("Color".into()),
                Some(vec!["Red".into(), "Blue".into()]),
            ),
        ])
        .unwrap()
    }

    fn values(pairs: &[(&str, &str)]) -> OptionValues {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn options_are_trimmed_unique_and_bounded() {
        assert_eq!(shirt()[0].name, "Size");
        let errors = ProductOption::parse_all(vec![
            (Some("Size".into()), Some(vec!["S".into()])),
            (Some("size".into()), Some(vec!["M".into(), "m".into()])),
            (None, Some(vec![])),
        ])
        .unwrap_err();
        let fields: Vec<&String> = errors.0.keys().collect();
        assert_eq!(
            fields,
            [
                "options[1].name",
                "options[1].values",
                "options[2].name",
                "options[2].values"
            ]
        );
        let four = (0..4)
            .map(|i| (Some(format!("o{i}")), Some(vec!["x".to_owned()])))
            .collect();
        assert!(ProductOption::parse_all(four).is_err());
    }

    #[test]
    fn a_variant_names_one_value_of_each_option() {
        let options = shirt();
        assert!(check_values(&options, &values(&[("Size", "M"), ("Color", "Red")])).is_ok());
        assert!(check_values(&options, &values(&[("Size", "M")])).is_err());
        assert!(check_values(&options, &values(&[("Size", "XL"), ("Color", "Red")])).is_err());
        assert!(check_values(
            &options,
            &values(&[("Size", "M"), ("Color", "Red"), ("Fit", "Slim")])
        )
        .is_err());
        assert!(check_values(&[], &values(&[])).is_ok());
        assert!(check_values(&[], &values(&[("Size", "M")])).is_err());
    }

    #[test]
    fn duplicate_combinations_are_found_and_titles_made() {
        let a = values(&[("Size", "M"), ("Color", "Red")]);
        let b = values(&[("Color", "Red"), ("Size", "M")]);
        let c = values(&[("Size", "S"), ("Color", "Red")]);
        assert_eq!(check_combination([&a, &c]), None);
        assert_eq!(check_combination([&a, &c, &b]), Some(2));
        assert_eq!(default_variant_title(&shirt(), &a), "M / Red");
        assert_eq!(default_variant_title(&[], &values(&[])), "Default");
    }
}
