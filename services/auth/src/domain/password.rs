use secrecy::SecretString;

/// A password acceptable for a new credential: 8-128 characters and not rated weak
/// (score below 3 of 4) by zxcvbn, which also penalizes the user's own name and email.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(raw: &str, user_inputs: &[&str]) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < 8 {
            return Err("must be at least 8 characters".to_owned());
        }
        if len > 128 {
            return Err("must be at most 128 characters".to_owned());
        }
        let estimate = zxcvbn::zxcvbn(raw, user_inputs);
        if (estimate.score() as u8) < 3 {
            let hint = estimate
                .feedback()
                .and_then(|f| f.warning().map(|w| w.to_string()))
                .unwrap_or_else(|| "add more words or characters".to_owned());
            return Err(format!("is too weak: {hint}"));
        }
        Ok(Self(SecretString::from(raw.to_owned())))
    }

    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_strength() {
        assert!(NewPassword::parse("short", &[]).is_err());
        assert!(NewPassword::parse("password1", &[]).is_err());
        assert!(NewPassword::parse(&"x".repeat(129), &[]).is_err());
        assert!(NewPassword::parse("correct horse battery staple", &[]).is_ok());
    }

    #[test]
    fn the_users_own_name_makes_a_password_weak() {
        assert!(
            NewPassword::parse("adalovelace1815", &["adalovelace", "ada@example.com"]).is_err()
        );
    }
}
