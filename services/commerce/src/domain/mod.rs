//! Validated input of the shop: each `parse` says what is wrong in words a
//! client can show.

mod attributes;
mod options;
mod revision;
mod slug;
mod variant;

pub use attributes::{
    schema as attributes_schema, Attributes, MAX_ATTRIBUTES, MAX_ATTRIBUTES_BYTES,
    MAX_ATTRIBUTE_NAME_CHARS,
};
pub use options::{
    check_combination, check_values, default_variant_title, values_schema, OptionValues,
    ProductOption, MAX_OPTIONS, MAX_OPTION_NAME_CHARS, MAX_OPTION_VALUES, MAX_OPTION_VALUE_CHARS,
};
pub use revision::{etag, IfMatch};
pub use slug::{Slug, MAX_SLUG_CHARS, SLUG_PATTERN};
pub use variant::{check_all as check_variants, VariantFields};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MAX_SKU_CHARS: usize = 64;
/// What a SKU may hold: letters, digits and `.`, `_`, `-`, starting with a
/// letter or digit (it appears in URLs: `/api/inventory/{sku}`).
pub const SKU_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9._-]*$";
/// Categories one product may belong to.
pub const MAX_PRODUCT_CATEGORIES: usize = 20;
/// Variants one product may have.
pub const MAX_VARIANTS: usize = 250;
/// The largest price, in minor units (ten billion in a two-decimal currency).
pub const MAX_PRICE_MINOR: i64 = 1_000_000_000_000;
pub const MAX_POSITION: i64 = 10_000;

/// A product's status: `draft` and `archived` ones are seen by admins only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ProductStatus)]
pub enum Status {
    Draft,
    Active,
    Archived,
}

impl Status {
    pub const ACCEPTED: &'static [&'static str] = &["draft", "active", "archived"];

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "draft" => Ok(Self::Draft),
            "active" => Ok(Self::Active),
            "archived" => Ok(Self::Archived),
            _ => Err(format!("must be one of {}", Self::ACCEPTED.join(", "))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }
}

/// A stock keeping unit: 1-64 characters of [`SKU_PATTERN`], kept as sent and
/// unique whatever its case.
pub fn sku(raw: &str) -> Result<String, String> {
    if raw.chars().count() > MAX_SKU_CHARS {
        return Err(format!("must be at most {MAX_SKU_CHARS} characters"));
    }
    let mut chars = raw.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(
            "must be letters, digits, '.', '_' or '-', starting with a letter or digit".to_owned(),
        );
    }
    Ok(raw.to_owned())
}

/// A price in minor units, 0 to [`MAX_PRICE_MINOR`].
pub fn price(value: i64) -> Result<i64, String> {
    if (0..=MAX_PRICE_MINOR).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between 0 and {MAX_PRICE_MINOR}"))
    }
}

/// A position among siblings, 0 to [`MAX_POSITION`].
pub fn position(value: i64) -> Result<i32, String> {
    match i32::try_from(value) {
        Ok(p) if (0..=MAX_POSITION).contains(&value) => Ok(p),
        _ => Err(format!("must be between 0 and {MAX_POSITION}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn skus_are_url_safe_and_bounded() {
        assert_eq!(sku("TEE-M.red_1").unwrap(), "TEE-M.red_1");
        for bad in ["", "-TEE", "TEE M", "TÉE", "a/b", &"x".repeat(65)] {
            assert!(sku(bad).is_err(), "{bad}");
        }
        let pattern = regex::Regex::new(SKU_PATTERN).unwrap();
        for sample in ["TEE-M", "-x", "a b", "a.b_c-d", "é"] {
            assert_eq!(pattern.is_match(sample), sku(sample).is_ok(), "{sample}");
        }
    }

    #[test]
    fn prices_and_positions_have_bounds() {
        assert!(price(0).is_ok());
        assert!(price(-1).is_err());
        assert!(price(MAX_PRICE_MINOR + 1).is_err());
        assert_eq!(position(3).unwrap(), 3);
        assert!(position(-1).is_err());
        assert!(position(MAX_POSITION + 1).is_err());
    }

    #[test]
    fn statuses_round_trip() {
        for raw in Status::ACCEPTED {
            assert_eq!(Status::parse(raw).unwrap().as_str(), *raw);
        }
        assert!(Status::parse("Active").is_err());
    }
}
