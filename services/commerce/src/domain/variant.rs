//! A variant's fields as a write leaves them, and the rules that tie them to
//! the product's options.

use common::FieldErrors;

use super::{check_combination, check_values, OptionValues, ProductOption};

/// A whole variant, checked field by field (see `routes::variants`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantFields {
    pub sku: String,
    /// `None`: made from the option values when read.
    pub title: Option<String>,
    pub option_values: OptionValues,
    pub price_minor: i64,
    pub compare_at_price_minor: Option<i64>,
}

impl VariantFields {
    /// What is wrong with this variant on a product with `options`, under
    /// `prefix` (`variants[2].`, or nothing for a variant route).
    pub fn check(&self, options: &[ProductOption], prefix: &str, errors: &mut FieldErrors) {
        if let Err(e) = check_values(options, &self.option_values) {
            errors.add(format!("{prefix}optionValues"), e);
        }
        if self
            .compare_at_price_minor
            .is_some_and(|compare_at| compare_at <= self.price_minor)
        {
            errors.add(
                format!("{prefix}compareAtPriceMinor"),
                "must be greater than priceMinor",
            );
        }
    }
}

/// Every variant of a new product checked against its options, with no two
/// sharing a combination or (whatever the case) a SKU. Each variant comes with
/// its index in the request (the ones whose fields were wrong are left out).
pub fn check_all(
    options: &[ProductOption],
    variants: &[(usize, VariantFields)],
    errors: &mut FieldErrors,
) {
    for (i, variant) in variants {
        variant.check(options, &format!("variants[{i}]."), errors);
    }
    if let Some(at) = check_combination(variants.iter().map(|(_, v)| &v.option_values)) {
        errors.add(
            format!("variants[{}].optionValues", variants[at].0),
            "is the combination of another variant",
        );
    }
    let skus: Vec<String> = variants.iter().map(|(_, v)| v.sku.to_lowercase()).collect();
    for (at, sku) in skus.iter().enumerate() {
        if skus[..at].contains(sku) {
            errors.add(
                format!("variants[{}].sku", variants[at].0),
                "is the SKU of another variant of this product",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(sku: &str, size: &str, price: i64, compare_at: Option<i64>) -> VariantFields {
        VariantFields {
            sku: sku.to_owned(),
            title: None,
            option_values: [("Size".to_owned(), size.to_owned())].into(),
            price_minor: price,
            compare_at_price_minor: compare_at,
        }
    }

    #[test]
    fn variants_are_checked_together() {
        let options = vec![ProductOption {
            name: "Size".into(),
            values: vec!["S".into(), "M".into()],
        }];
        let mut errors = FieldErrors::new();
        check_all(
            &options,
            &[
                (0, variant("A", "S", 100, Some(150))),
                (1, variant("B", "M", 100, Some(100))),
                (3, variant("a", "S", 100, None)),
                (4, variant("C", "XL", 100, None)),
            ],
            &mut errors,
        );
        let fields: Vec<&String> = errors.0.keys().collect();
        assert_eq!(
            fields,
            [
                "variants[1].compareAtPriceMinor",
                "variants[3].optionValues",
                "variants[3].sku",
                "variants[4].optionValues",
            ]
        );
    }
}
