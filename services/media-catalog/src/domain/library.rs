use chrono::Datelike;

/// A library movie's title: 1-200 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovieTitle(String);

impl MovieTitle {
    pub fn parse(raw: &str) -> Result<Self, String> {
        common::domain::bounded_text(raw, 200).map(Self)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A release year from 1888 (the first surviving film) to next year + 5 (films
/// announced for the year after next are common; a few are announced further).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseYear(i32);

impl ReleaseYear {
    pub const FIRST: i64 = 1888;

    pub fn latest() -> i64 {
        i64::from(chrono::Utc::now().year()) + 1 + 5
    }

    pub fn parse(value: i64) -> Result<Self, String> {
        let latest = Self::latest();
        if !(Self::FIRST..=latest).contains(&value) {
            return Err(format!("must be between {} and {latest}", Self::FIRST));
        }
        i32::try_from(value)
            .map(Self)
            .map_err(|_| "is out of range".to_owned())
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_run_from_1888_to_next_year_plus_five() {
        let this_year = i64::from(chrono::Utc::now().year());
        assert!(ReleaseYear::parse(1888).is_ok());
        assert!(ReleaseYear::parse(1887).is_err());
        assert!(ReleaseYear::parse(this_year + 6).is_ok());
        assert_eq!(
            ReleaseYear::parse(this_year + 7).unwrap_err(),
            format!("must be between 1888 and {}", this_year + 6)
        );
    }

    #[test]
    fn titles_are_1_to_200_characters() {
        assert!(MovieTitle::parse("Alien").is_ok());
        assert!(MovieTitle::parse("").is_err());
        assert!(MovieTitle::parse(&"x".repeat(201)).is_err());
    }
}
