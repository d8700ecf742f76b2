//! The catalog's query and path parameters. They arrive as text so that every
//! wrong value, a non-number included, is a 422 naming the field, before any call
//! to TMDB.

use common::pagination::{PageParams, PageQuery};
use common::{ApiError, FieldErrors};

use super::MediaType;

pub const MAX_PAGE: i64 = 500;
pub const MAX_QUERY_CHARS: usize = 200;
pub const POSTER_SIZES: &[&str] = &["w92", "w154", "w185", "w342", "w500", "w780", "original"];
pub const DEFAULT_POSTER_SIZE: &str = "w500";
/// Sections `append` may ask for on a details page.
pub const SECTIONS: &[&str] = &["videos", "credits", "recommendations", "similar"];
/// `sortBy` values of discover.
pub const SORTS: &[&str] = &[
    "popularity.desc",
    "popularity.asc",
    "rating.desc",
    "rating.asc",
    "releaseDate.desc",
    "releaseDate.asc",
    "title.asc",
    "title.desc",
    "votes.desc",
    "votes.asc",
];
/// `window` values of trending.
pub const WINDOWS: &[&str] = &["day", "week"];
/// Years a catalog filter takes (a filter, so any plausible year: TMDB answers
/// an empty page for years without titles).
const FIRST_FILM_YEAR: i64 = 1874;
const LAST_FILTER_YEAR: i64 = 2100;
const MAX_GENRES: usize = 10;

/// Collects every bad parameter of a request, then answers one 422 with all of them.
#[derive(Default)]
pub struct Checker {
    errors: FieldErrors,
}

fn present(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim)
}

impl Checker {
    pub fn new() -> Self {
        Self::default()
    }

    fn integer(&mut self, field: &str, raw: &str, min: i64, max: i64) -> Option<i64> {
        match raw.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.errors
                    .add(field, format!("must be an integer between {min} and {max}"));
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.add(field, message);
    }

    /// `movie` or `tv`; required.
    pub fn media_type(&mut self, field: &str, raw: Option<&str>) -> Option<MediaType> {
        match raw.map(|r| (r, MediaType::parse(r.trim()))) {
            Some((_, Some(media))) => Some(media),
            Some(_) => {
                self.errors.add(field, "must be movie or tv");
                None
            }
            None => {
                self.errors.add(field, "is required");
                None
            }
        }
    }

    /// `page` and `limit` of a database list (limit 1-100).
    pub fn paging(&mut self, page: Option<i64>, limit: Option<i64>) -> PageParams {
        PageQuery { page, limit }.validate_into(&mut self.errors)
    }

    /// `page`: 1-500, default 1.
    pub fn page(&mut self, raw: Option<&str>) -> i64 {
        match present(raw) {
            None => 1,
            Some(raw) => self.integer("page", raw, 1, MAX_PAGE).unwrap_or(1),
        }
    }

    /// `imageSize`: one of TMDB's poster sizes, default w500.
    pub fn image_size(&mut self, raw: Option<&str>) -> &'static str {
        match present(raw) {
            None => DEFAULT_POSTER_SIZE,
            Some(raw) => match POSTER_SIZES.iter().find(|s| **s == raw) {
                Some(size) => size,
                None => {
                    self.errors.add(
                        "imageSize",
                        format!("must be one of {}", POSTER_SIZES.join(", ")),
                    );
                    DEFAULT_POSTER_SIZE
                }
            },
        }
    }

    /// `q`: required, at most 200 characters as sent; white space collapsed and
    /// lower-cased (TMDB's search ignores both, so one cache entry serves every
    /// spelling).
    pub fn search_text(&mut self, raw: Option<&str>) -> String {
        match common::domain::words(raw.unwrap_or(""), MAX_QUERY_CHARS) {
            Ok(words) => words.to_lowercase(),
            Err(e) => {
                self.errors.add("q", e);
                String::new()
            }
        }
    }

    /// `window`: `day` (default) or `week`.
    pub fn window(&mut self, raw: Option<&str>) -> &'static str {
        match present(raw) {
            None => WINDOWS[0],
            Some(raw) => match WINDOWS.iter().find(|w| **w == raw) {
                Some(window) => window,
                None => {
                    self.errors.add("window", "must be day or week");
                    WINDOWS[0]
                }
            },
        }
    }

    /// A release year to filter by, 1874-2100.
    pub fn year(&mut self, field: &str, raw: Option<&str>) -> Option<i64> {
        let raw = present(raw)?;
        self.integer(field, raw, FIRST_FILM_YEAR, LAST_FILTER_YEAR)
    }

    /// `genre`: comma-separated genre ids (all must match), at most 10.
    pub fn genres(&mut self, raw: Option<&str>) -> Option<String> {
        let raw = present(raw)?;
        let ids: Option<Vec<i64>> = raw
            .split(',')
            .map(|g| g.trim().parse::<i64>().ok().filter(|n| *n > 0))
            .collect();
        match ids {
            Some(mut ids) if !ids.is_empty() && ids.len() <= MAX_GENRES => {
                ids.sort_unstable();
                ids.dedup();
                Some(ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
            }
            _ => {
                self.errors.add(
                    "genre",
                    format!("must be 1 to {MAX_GENRES} comma-separated genre ids"),
                );
                None
            }
        }
    }

    /// `sortBy`: one of [`SORTS`], default `popularity.desc`.
    pub fn sort_by(&mut self, raw: Option<&str>) -> &'static str {
        match present(raw) {
            None => SORTS[0],
            Some(raw) => match SORTS.iter().find(|s| **s == raw) {
                Some(sort) => sort,
                None => {
                    self.errors
                        .add("sortBy", format!("must be one of {}", SORTS.join(", ")));
                    SORTS[0]
                }
            },
        }
    }

    /// `minRating`: 0 to 10.
    pub fn min_rating(&mut self, raw: Option<&str>) -> Option<String> {
        let raw = present(raw)?;
        match raw.parse::<f64>() {
            Ok(r) if (0.0..=10.0).contains(&r) => Some(format!("{r}")),
            _ => {
                self.errors
                    .add("minRating", "must be a number from 0 to 10");
                None
            }
        }
    }

    /// `append`: comma-separated sections of [`SECTIONS`], in a fixed order.
    pub fn sections(&mut self, raw: Option<&str>) -> Vec<&'static str> {
        let Some(raw) = present(raw).filter(|r| !r.is_empty()) else {
            return Vec::new();
        };
        let mut wanted = Vec::new();
        for name in raw.split(',').map(str::trim) {
            match SECTIONS.iter().find(|s| **s == name) {
                Some(section) => wanted.push(*section),
                None => {
                    self.errors.add(
                        "append",
                        format!("unknown section {name:?}; expected {}", SECTIONS.join(", ")),
                    );
                    return Vec::new();
                }
            }
        }
        SECTIONS
            .iter()
            .copied()
            .filter(|s| wanted.contains(s))
            .collect()
    }

    /// A path segment that must be a positive integer id.
    pub fn id(&mut self, field: &str, raw: &str) -> i64 {
        self.integer(field, raw.trim(), 1, i64::from(i32::MAX))
            .unwrap_or(0)
    }

    /// A season number: 0 (specials) to 1000.
    pub fn season(&mut self, raw: &str) -> i64 {
        self.integer("seasonNumber", raw.trim(), 0, 1000)
            .unwrap_or(0)
    }

    pub fn finish(self) -> Result<(), ApiError> {
        self.errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(checker: Checker) -> Vec<String> {
        match checker.finish() {
            Err(ApiError::Validation(f)) => f.0.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn every_bad_value_is_named() {
        let mut c = Checker::new();
        c.page(Some("abc"));
        c.window(Some("month"));
        c.image_size(Some("w9999"));
        c.search_text(Some("   "));
        c.min_rating(Some("11"));
        assert_eq!(
            fields(c),
            vec!["imageSize", "minRating", "page", "q", "window"]
        );
    }

    #[test]
    fn good_values_are_normalized() {
        let mut c = Checker::new();
        assert_eq!(c.page(Some("500")), 500);
        assert_eq!(
            c.search_text(Some("  The   Silent  HARBOR ")),
            "the silent harbor"
        );
        assert_eq!(c.genres(Some("35, 18,35")).as_deref(), Some("18,35"));
        assert_eq!(
            c.sections(Some("similar,videos")),
            vec!["videos", "similar"]
        );
        assert_eq!(c.id("id", "42"), 42);
        assert!(c.finish().is_ok());
    }

    #[test]
    fn ids_and_pages_reject_out_of_range_numbers() {
        let mut c = Checker::new();
        c.page(Some("501"));
        c.id("id", "0");
        c.id("id", "-3");
        c.id("x", "99999999999");
        assert_eq!(fields(c), vec!["id", "page", "x"]);
    }

    #[test]
    fn queries_over_200_characters_are_refused() {
        let mut c = Checker::new();
        c.search_text(Some(&"a".repeat(201)));
        assert_eq!(fields(c), vec!["q"]);
    }
}
