use validator::ValidateEmail;

/// An email address, trimmed and lower-cased, so comparisons ignore case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let normalized = raw.trim().to_lowercase();
        if normalized.is_empty() {
            return Err("is required");
        }
        if normalized.len() > 254 {
            return Err("must be at most 254 characters");
        }
        if !normalized.validate_email() {
            return Err("is not a valid email address");
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// `a***@example.com`: enough to tell accounts apart in logs, not enough to leak them.
pub fn redact(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_space() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn rejects_invalid() {
        for bad in ["", "   ", "no-at-sign", "a@", "@b.com", "a b@c.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse(&format!("{}@x.io", "a".repeat(250))).is_err());
    }

    #[test]
    fn redacts_for_logs() {
        assert_eq!(redact("ada@example.com"), "a***@example.com");
    }
}
