/// An avatar URL: absolute http(s), at most 2048 characters.
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
    fn accepts_http_urls_only() {
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
    }
}
