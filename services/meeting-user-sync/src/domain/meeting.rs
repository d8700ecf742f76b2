use chrono::{DateTime, Utc};
use rand::Rng;

/// At most 200 characters, not only white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingTitle(String);

impl MeetingTitle {
    pub fn parse(raw: &str) -> Result<Self, String> {
        common::domain::bounded_text(raw, 200).map(Self)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Up to 2000 characters, line breaks allowed; blank means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(Option<String>);

impl Description {
    pub fn parse(raw: &str) -> Result<Self, String> {
        common::domain::bounded_multiline(raw, 2000).map(Self)
    }

    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

/// 1 to 1440 minutes (a day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationMinutes(i32);

impl DurationMinutes {
    pub fn parse(raw: i64) -> Result<Self, String> {
        if (1..=1440).contains(&raw) {
            Ok(Self(raw as i32))
        } else {
            Err("must be between 1 and 1440 minutes".to_owned())
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

/// An RFC 3339 time, stored in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduledAt(DateTime<Utc>);

impl ScheduledAt {
    pub fn parse(raw: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(raw)
            .map(|t| Self(t.with_timezone(&Utc)))
            .map_err(|_| {
                "must be an RFC 3339 date and time, such as 2026-12-01T18:00:00Z".to_owned()
            })
    }

    pub fn get(self) -> DateTime<Utc> {
        self.0
    }
}

/// A chat message: up to 2000 characters, line breaks allowed, not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatText(String);

impl ChatText {
    pub fn parse(raw: &str) -> Result<Self, String> {
        common::domain::bounded_multiline(raw, 2000)?
            .map(Self)
            .ok_or_else(|| "must not be empty".to_owned())
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A join code people can read out and type: ten random lowercase letters (26^10,
/// about 47 bits), shown as `xxx-xxxx-xxx`. Case, dashes and spaces do not matter
/// when typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinCode(String);

const CODE_LETTERS: usize = 10;

impl JoinCode {
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        let letters: String = (0..CODE_LETTERS)
            .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
            .collect();
        Self::format(&letters)
    }

    fn format(letters: &str) -> Self {
        Self(format!(
            "{}-{}-{}",
            &letters[..3],
            &letters[3..7],
            &letters[7..]
        ))
    }

    /// A typed code, normalized; `None` when it cannot be a join code.
    pub fn parse(raw: &str) -> Option<Self> {
        let letters: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        (letters.len() == CODE_LETTERS && letters.bytes().all(|b| b.is_ascii_lowercase()))
            .then(|| Self::format(&letters))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_codes_are_typable_and_forgiving() {
        let code = JoinCode::generate();
        assert_eq!(code.as_str().len(), 12);
        assert_eq!(JoinCode::parse(code.as_str()), Some(code.clone()));
        let shouted = code.as_str().to_uppercase().replace('-', " ");
        assert_eq!(JoinCode::parse(&shouted), Some(code));
        assert_eq!(JoinCode::parse("abc-defg-hi"), None);
        assert_eq!(JoinCode::parse("abc-defg-hi1"), None);
        assert_ne!(JoinCode::generate(), JoinCode::generate());
    }

    #[test]
    fn limits() {
        assert!(MeetingTitle::parse(&"t".repeat(200)).is_ok());
        assert!(MeetingTitle::parse(&"t".repeat(201)).is_err());
        assert!(DurationMinutes::parse(0).is_err());
        assert!(DurationMinutes::parse(1440).is_ok());
        assert!(ChatText::parse("  ").is_err());
        assert!(ChatText::parse(&"c".repeat(2001)).is_err());
        assert_eq!(Description::parse("  ").unwrap().into_inner(), None);
        assert!(ScheduledAt::parse("tomorrow").is_err());
        assert_eq!(
            ScheduledAt::parse("2026-12-01T19:00:00+01:00")
                .unwrap()
                .get()
                .to_rfc3339(),
            "2026-12-01T18:00:00+00:00"
        );
    }
}
