//! commerce's own settings; every key is an environment variable of the same
//! name in upper case (`SHOP_CURRENCY`, ...).

use serde::{Deserialize, Deserializer};

#[derive(Debug, Clone, Deserialize)]
pub struct CommerceSettings {
    /// The ISO 4217 code of every price (`EUR`, `USD`, ...). Prices are stored
    /// as integers in its minor units without a currency of their own, so the
    /// shop has one currency; changing it re-labels every price.
    #[serde(default = "d_currency", deserialize_with = "currency_code")]
    pub shop_currency: String,
}

fn d_currency() -> String {
    "EUR".to_owned()
}

/// Three upper-case ASCII letters, the shape of every ISO 4217 code; a bad value
/// stops the service at start with the setting's name.
fn currency_code<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    let raw = String::deserialize(de)?;
    if raw.len() == 3 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(raw)
    } else {
        Err(serde::de::Error::custom(format!(
            "shop_currency must be an ISO 4217 code of three upper-case letters, not {raw:?}"
        )))
    }
}

/// Both halves of the configuration, loaded from the same sources.
pub type Settings = common::config::Settings<CommerceSettings>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<CommerceSettings> {
        common::config::load_from(
            &[("port", "8085")],
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    #[test]
    fn the_currency_defaults_to_euro_and_must_be_an_iso_code() {
        assert_eq!(load(&[]).unwrap().shop_currency, "EUR");
        assert_eq!(
            load(&[("SHOP_CURRENCY", "USD")]).unwrap().shop_currency,
            "USD"
        );
        for bad in ["eur", "EURO", "E1R", "", "€"] {
            let err = load(&[("SHOP_CURRENCY", bad)]).unwrap_err();
            assert!(err.to_string().contains("shop_currency"), "{bad}: {err}");
        }
    }
}
