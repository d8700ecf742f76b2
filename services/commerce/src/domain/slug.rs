//! Slugs: the URL names of categories and products (`/api/categories/shoes`,
//! `/api/products/red-shoes`).

/// Lower-case ASCII letters and digits in words joined by single hyphens.
pub const SLUG_PATTERN: &str = "^[a-z0-9]+(?:-[a-z0-9]+)*$";
pub const MAX_SLUG_CHARS: usize = 100;
/// Room kept in a slug made from a title for the `-<n>` that makes it unique.
const SUFFIX_ROOM: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// A slug as a client gives it: [`SLUG_PATTERN`], at most 100 characters,
    /// and not shaped like a UUID (`GET /api/products/{idOrSlug}` reads a UUID
    /// as an id).
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > MAX_SLUG_CHARS {
            return Err(format!("must be at most {MAX_SLUG_CHARS} characters"));
        }
        let words_ok = !raw.is_empty()
            && raw.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if !words_ok {
            return Err(
                "must be lower-case letters and digits in words joined by single hyphens"
                    .to_owned(),
            );
        }
        if uuid::Uuid::parse_str(raw).is_ok() {
            return Err("must not be a UUID".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The slug made from a title or name: accents dropped from Latin letters,
    /// every other run of characters a hyphen, short enough for a `-<n>`
    /// suffix; `fallback` when nothing usable is left (a title in another
    /// script).
    pub fn from_title(title: &str, fallback: &str) -> Self {
        let mut out = String::new();
        let mut gap = false;
        for c in title.chars().flat_map(fold) {
            if c.is_ascii_alphanumeric() {
                if gap && !out.is_empty() {
                    out.push('-');
                }
                gap = false;
                out.push(c.to_ascii_lowercase());
            } else {
                gap = true;
            }
            if out.len() >= MAX_SLUG_CHARS - SUFFIX_ROOM {
                break;
            }
        }
        let out = out.trim_end_matches('-');
        match Self::parse(out) {
            Ok(slug) => slug,
            Err(_) => Self(fallback.to_owned()),
        }
    }

    /// This slug with `-n` added (`n` from 2: the second of a name).
    pub fn numbered(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A Latin letter with its accent dropped (`é` is `e`, `ß` is `ss`); any other
/// character as it is.
fn fold(c: char) -> Vec<char> {
    let plain: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
            "a"
        }
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'ď' | 'đ' | 'Ď' | 'Đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ę' | 'Ě' => {
            "e"
        }
        'ğ' | 'Ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ı' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'İ' => "i",
        'ł' | 'Ł' => "l",
        'ñ' | 'ń' | 'ň' | 'Ñ' | 'Ń' | 'Ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ő' => {
            "o"
        }
        'ř' | 'Ř' => "r",
        'ś' | 'š' | 'ş' | 'Ś' | 'Š' | 'Ş' => "s",
        'ť' | 'ţ' | 'Ť' | 'Ţ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ů' | 'Ű' => {
            "u"
        }
        'ý' | 'ÿ' | 'Ý' => "y",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
        'ß' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'þ' | 'Þ' => "th",
        _ => return vec![c],
    };
    plain.chars().collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]
    use super::*;

    #[test]
    fn slugs_are_lower_case_words_joined_by_hyphens() {
        assert_eq!(Slug::parse("red-shoes-2").unwrap().as_str(), "red-shoes-2");
        for bad in [
            "",
            "Red",
            "red--shoes",
            "-red",
            "red-",
            "red shoes",
            "rød",
            "0190c1a2-7b3c-7def-8a9b-0c1d2e3f4a5b",
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert!(Slug::parse(&"a".repeat(101)).is_err());
        let pattern = regex::Regex::new(SLUG_PATTERN).unwrap();
        for sample in ["a", "a-b", "a--b", "A", "a_b", "-a", "9-9"] {
            assert_eq!(
                pattern.is_match(sample),
                Slug::parse(sample).is_ok(),
                "{sample}"
            );
        }
    }

    #[test]
    fn titles_become_slugs() {
        let slug = |t: &str| Slug::from_title(t, "product").into_inner();
        assert_eq!(slug("Red Shoes"), "red-shoes");
        assert_eq!(slug("  Café au lait!! (250 g) "), "cafe-au-lait-250-g");
        assert_eq!(slug("Straße & Crème Brûlée"), "strasse-creme-brulee");
        assert_eq!(slug("東京"), "product");
        assert_eq!(slug("---"), "product");
        let long = slug(&"word ".repeat(60));
        assert!(long.len() <= MAX_SLUG_CHARS - SUFFIX_ROOM, "{long}");
        assert!(Slug::parse(&long).is_ok(), "{long}");
        assert!(Slug::parse(&Slug::parse(&long).unwrap().numbered(99_999).into_inner()).is_ok());
    }
}
