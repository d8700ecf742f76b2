//! Optimistic concurrency on products: the `ETag` of a product is its revision,
//! and a write sent with `If-Match` happens only while that revision is the
//! current one (RFC 9110 §13.1.1), so two admins never overwrite each other
//! silently.
//!
//! The revision counts the writes of the product's own content: its fields,
//! variants and category links (a category deleted with `reassignTo` counts
//! too). Stock and the names of its categories are read live beside it and do
//! not change it: an admin editing a title is not refused because a customer
//! bought something.

/// The strong entity tag of revision `version`: `"7"`.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A request's `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// No header: the write is unconditional.
    Absent,
    /// `*`: any current revision.
    Any,
    /// The entity tags listed (weak ones never match: If-Match compares strongly).
    Tags(Vec<String>),
}

impl IfMatch {
    /// From the header's values (several headers are one list).
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let tags: Vec<String> = values
            .into_iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        if tags.is_empty() {
            Self::Absent
        } else if tags.iter().any(|t| t == "*") {
            Self::Any
        } else {
            Self::Tags(tags)
        }
    }

    /// Whether a write may go ahead on revision `version`.
    pub fn allows(&self, version: i64) -> bool {
        match self {
            Self::Absent | Self::Any => true,
            Self::Tags(tags) => {
                let current = etag(version);
                tags.contains(&current)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_current_strong_tag_or_a_star_matches() {
        assert!(IfMatch::parse([]).allows(3));
        assert_eq!(IfMatch::parse(["  "]), IfMatch::Absent);
        assert!(IfMatch::parse(["*"]).allows(3));
        assert!(IfMatch::parse(["\"3\""]).allows(3));
        assert!(IfMatch::parse(["\"1\", \"3\""]).allows(3));
        assert!(IfMatch::parse(["\"1\"", "\"3\""]).allows(3));
        assert!(!IfMatch::parse(["\"2\""]).allows(3));
        assert!(!IfMatch::parse(["W/\"3\""]).allows(3));
        assert!(!IfMatch::parse(["3"]).allows(3));
    }
}
