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

/// Text of at most `max` characters as sent, stored trimmed: something other
/// than white space, and no control characters inside.
pub fn bounded_text(raw: &str, max: usize) -> Result<String, String> {
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// [`bounded_text`], or `None` for text that is only white space (an optional
/// filter left blank).
pub fn optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    if raw.chars().count() <= max && raw.trim().is_empty() {
        return Ok(None);
    }
    bounded_text(raw, max).map(Some)
}

/// Text of at most `max` characters as sent, stored trimmed, that may hold line
/// breaks and tabs (descriptions, messages, bios); `None` when it is only white
/// space.
pub fn bounded_multiline(raw: &str, max: usize) -> Result<Option<String>, String> {
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let trimmed = raw.trim();
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters".to_owned());
    }
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// Words: at most `max` characters as sent, every run of white space (line
/// breaks included) made one space, the ends trimmed; not empty, and no other
/// control characters (search queries).
pub fn words(raw: &str, max: usize) -> Result<String, String> {
    if raw.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Err("is required".to_owned());
    }
    if collapsed.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(collapsed)
}

/// What `str::trim` removes (Unicode `White_Space`), as a regex class body.
const WS: &str =
    r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";
/// Control characters (Unicode `Cc`).
const CC: &str = r"\u0000-\u001f\u007f-\u009f";
/// Control characters that are not white space.
const CC_BUT_WS: &str = r"\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f";
/// Control characters but tab, line feed and carriage return.
const CC_BUT_BREAKS: &str = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f";

/// The rules of [`bounded_text`], [`bounded_multiline`] and [`ImageUrl`] as
/// ECMA-262 (and Python) regular expressions, for the OpenAPI document's
/// `pattern`s: a schema marks a string with `format = "text"`, `"text-or-blank"`, `"multiline"`,
/// `"multiline-or-blank"`, `"words"` or `"image-url"`, and [`crate::openapi::finish`] puts
/// the pattern in its place, so the rule is written once.
pub fn pattern_of(format: &str) -> Option<String> {
    let content = |inner: &str| format!("[{WS}]*[^{WS}{CC}](?:[^{inner}]*[^{WS}{CC}])?[{WS}]*");
    Some(match format {
        "text" => format!("^{}$", content(CC)),
        "text-or-blank" => format!("^(?:[{WS}]*|{})$", content(CC)),
        "multiline" => format!("^{}$", content(CC_BUT_BREAKS)),
        "multiline-or-blank" => format!("^(?:[{WS}]*|{})$", content(CC_BUT_BREAKS)),
        "words" => format!("^{}$", content(CC_BUT_WS)),
        "image-url" => {
            format!(r"^[{WS}]*https?://[^/?#\[\]{WS}{CC}]+(?:[/?#][^{WS}{CC}]*)?[{WS}]*$")
        }
        _ => return None,
    })
}

/// For integer fields: JSON has numbers only, and JSON Schema counts `2001.0`
/// as the integer 2001; a fraction, or a number out of range, stays an error.
/// Use with `#[serde(default, deserialize_with = "whole_number")]`.
pub fn whole_number<'de, D: Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    let number: Option<serde_json::Number> = Deserialize::deserialize(de)?;
    number.map(|n| integer_of(&n)).transpose()
}

/// [`whole_number`] for PATCH fields that tell `null` from absent.
pub fn double_option_whole_number<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<i64>>, D::Error> {
    whole_number(de).map(Some)
}

fn integer_of<E: serde::de::Error>(number: &serde_json::Number) -> Result<i64, E> {
    if let Some(n) = number.as_i64() {
        return Ok(n);
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && (-9.0e15..=9.0e15).contains(&f) => {
            // Whole and within ±2^53: the conversion is exact.
            Ok(f as i64)
        }
        _ => Err(E::custom(format!(
            "invalid type: {number}, expected an integer"
        ))),
    }
}

/// An image URL given by a client (avatar, poster): absolute http(s), at most
/// 2048 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(String);

impl ImageUrl {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.chars().count() > 2048 {
            return Err("must be at most 2048 characters");
        }
        let trimmed = raw.trim();
        let rest = trimmed
            .strip_prefix("https://")
            .or_else(|| trimmed.strip_prefix("http://"))
            .ok_or("must be an http(s) URL")?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        // No IP literals in brackets: image hosts have names, and a bracket that
        // is not a valid literal makes the URL unusable for browsers.
        if host.is_empty()
            || host.contains(['[', ']'])
            || trimmed.chars().any(|c| c.is_whitespace() || c.is_control())
        {
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
        // Length as sent, as the document's maxLength counts it.
        assert!(bounded_text(" 123456789 ", 10).is_err());
    }

    #[test]
    fn multiline_text_keeps_breaks_and_may_be_blank() {
        assert_eq!(
            bounded_multiline(" a\nb\tc ", 10).unwrap().as_deref(),
            Some("a\nb\tc")
        );
        assert_eq!(bounded_multiline("  \n ", 10).unwrap(), None);
        assert!(bounded_multiline("a\u{7}b", 10).is_err());
        assert!(bounded_multiline(&"x".repeat(11), 10).is_err());
    }

    /// Strings that tell the rules apart: white space of every kind at the ends
    /// and inside, control characters, line breaks, URL shapes.
    const SAMPLES: &[&str] = &[
        "",
        " ",
        "a",
        " a ",
        "\ta\n",
        "a b",
        "a\tb",
        "a\nb",
        "a\rb",
        "a\u{0}b",
        "a\u{7}b",
        "a\u{b}b",
        "\u{b}a",
        "a\u{85}b",
        "\u{85}a",
        "\u{a0}a\u{a0}",
        "a\u{a0}b",
        "\u{3000}",
        "\u{1c}a",
        "a\u{1c}",
        "\u{feff}a",
        "é",
        "\u{200b}",
        "\u{2028}a",
        "a\u{2028}b",
        "https://x",
        " https://x/y?z#w ",
        "http://h",
        "https://",
        "https:///p",
        "https://a b",
        "HTTPS://x",
        "https://[::1]/x",
        "https://a]b",
        "https://a/[b]",
        "https://u@h:8/p?q#f",
        "ftp://x",
        "https://x\u{0}",
        "https://x\u{a0}y",
        "https://é.example/ü",
    ];

    fn accepts(format: &str, text: &str) -> bool {
        let pattern = pattern_of(format).unwrap();
        regex::Regex::new(&pattern).unwrap().is_match(text)
    }

    /// The patterns take exactly what the parsers take, so a client generated
    /// from the document sends nothing the service refuses, and the reverse.
    #[test]
    fn patterns_are_written_for_the_parsers() {
        for sample in SAMPLES {
            assert_eq!(
                accepts("text", sample),
                bounded_text(sample, 100).is_ok(),
                "text {sample:?}"
            );
            assert_eq!(
                accepts("multiline", sample),
                bounded_multiline(sample, 100).is_ok_and(|t| t.is_some()),
                "multiline {sample:?}"
            );
            assert_eq!(
                accepts("multiline-or-blank", sample),
                bounded_multiline(sample, 100).is_ok(),
                "multiline-or-blank {sample:?}"
            );
            assert_eq!(
                accepts("text-or-blank", sample),
                optional_text(sample, 100).is_ok(),
                "text-or-blank {sample:?}"
            );
            assert_eq!(
                accepts("words", sample),
                words(sample, 100).is_ok(),
                "words {sample:?}"
            );
            assert_eq!(
                accepts("image-url", sample),
                ImageUrl::parse(sample).is_ok(),
                "image-url {sample:?}"
            );
        }
        assert!(pattern_of("uuid").is_none());
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_decimal_point() {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default, deserialize_with = "whole_number")]
            year: Option<i64>,
        }
        let year = |json: &str| serde_json::from_str::<Body>(json).map(|b| b.year);
        assert_eq!(year(r#"{"year": 2001}"#).unwrap(), Some(2001));
        assert_eq!(year(r#"{"year": 2001.0}"#).unwrap(), Some(2001));
        assert_eq!(year(r#"{}"#).unwrap(), None);
        assert_eq!(year(r#"{"year": null}"#).unwrap(), None);
        assert!(year(r#"{"year": 2001.5}"#).is_err());
        assert!(year(r#"{"year": "2001"}"#).is_err());
        assert!(year(r#"{"year": 1e300}"#).is_err());
    }
}
