//! Validated values that more than one service accepts from clients. Each `parse`
//! says what is wrong in words a client can show.

use serde::{Deserialize, Deserializer};

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null`
/// (`Some(None)`). Use with `#[serde(default, deserialize_with = "double_option")]`.
pub fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Deserialize::deserialize(de).map(Some)
}

/// Trimmed text of 1 to `max` characters, without control characters.
pub fn bounded_text(raw: &str, max: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        return Err("must not be empty".to_owned());
    }
    if len > max {
        return Err(format!("must be at most {max} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// An image URL given by a client (avatar, poster): absolute http(s), at most
/// 2048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(String);

impl ImageUrl {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let trimmed = raw.trim();
        if trimmed.len() > 2048 {
            return Err("must be at most 2048 characters");
        }
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))
            .ok_or("must be an http(s) URL")?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        if host.is_empty() || trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must be an http(s) URL");
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_urls_are_http_only() {
        assert!(ImageUrl::parse("https://cdn.example.com/a.png").is_ok());
        assert!(ImageUrl::parse("http://localhost:9000/x").is_ok());
        for bad in [
            "ftp://x/y",
            "javascript:alert(1)",
            "https://",
            "https://a b/c",
            "/relative",
        ] {
            assert!(ImageUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(ImageUrl::parse(&format!("https://x.io/{}", "a".repeat(2048))).is_err());
    }

    #[test]
    fn bounded_text_trims_and_counts_characters() {
        assert_eq!(bounded_text("  Alien  ", 10).unwrap(), "Alien");
        assert!(bounded_text("   ", 10).is_err());
        assert!(bounded_text(&"é".repeat(10), 10).is_ok());
        assert_eq!(
            bounded_text(&"é".repeat(11), 10).unwrap_err(),
            "must be at most 10 characters"
        );
        assert!(bounded_text("a\u{0}b", 10).is_err());
    }
}
