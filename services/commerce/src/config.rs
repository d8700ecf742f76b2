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
    /// The text-search configuration of product search (`english`, `german`,
    /// `simple`, ...): any of PostgreSQL's `pg_ts_config`.
    #[serde(default = "d_search_language")]
    pub shop_search_language: String,
    /// An order unpaid this long after it was placed expires and its stock is
    /// released.
    #[serde(default = "d_payment_timeout")]
    pub order_payment_timeout_secs: u64,
    /// How often the sweeper looks for expired orders.
    #[serde(default = "d_sweep_every")]
    pub order_sweep_secs: u64,
    /// How often analytics events are rolled up into hourly counts.
    #[serde(default = "d_rollup_every")]
    pub analytics_rollup_secs: u64,
    /// Analytics ingestion requests per client address per minute (0: no
    /// limit); a batch of up to 100 events is one request.
    #[serde(default = "d_events_per_ip")]
    pub analytics_events_per_ip_per_min: u64,
    /// The largest product image accepted, in bytes.
    #[serde(default = "d_image_max")]
    pub product_image_max_bytes: usize,
    /// How long a replica answers a public product read from memory (0: never;
    /// see crate::cache). Other replicas' catalog writes, and orders' stock
    /// changes, show after at most this long.
    #[serde(default = "d_product_cache")]
    pub product_cache_secs: u64,
    /// How often a replica sets the in-stock flags of products whose stock
    /// orders flipped (crate::db::stock): search's `inStock` filter and facet
    /// follow orders within about this long. Catalog and inventory writes set
    /// it at once.
    #[serde(default = "d_stock_flag_refresh")]
    pub stock_flag_refresh_ms: u64,
    /// Prefix of this service's Redis channels (`<prefix>:catalog-changed`).
    #[serde(default = "d_redis_prefix")]
    pub commerce_redis_prefix: String,
}

fn d_redis_prefix() -> String {
    "commerce".to_owned()
}

fn d_stock_flag_refresh() -> u64 {
    1000
}

fn d_product_cache() -> u64 {
    2
}

fn d_search_language() -> String {
    "english".to_owned()
}

fn d_payment_timeout() -> u64 {
    1800
}

fn d_sweep_every() -> u64 {
    15
}

fn d_rollup_every() -> u64 {
    10
}

fn d_events_per_ip() -> u64 {
    6000
}

fn d_image_max() -> usize {
    10 * 1024 * 1024
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
