use std::collections::HashSet;

pub const MAX_CAPTION_CHARS: usize = 2200;
pub const MAX_HASHTAGS: usize = 30;
const MAX_COMMENT_CHARS: usize = 1000;
/// Longer hashtags are not tags anyone searches for; they stay plain text.
const MAX_TAG_CHARS: usize = 100;

/// A caption of up to 2,200 characters (line breaks allowed, may be blank), and
/// the hashtags in it: `#` then Unicode letters, digits and underscores,
/// lower-cased, each once, at most 30.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caption {
    pub text: String,
    pub hashtags: Vec<String>,
}

impl Caption {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = common::domain::bounded_multiline(raw, MAX_CAPTION_CHARS)?.unwrap_or_default();
        let hashtags = hashtags_of(&text);
        if hashtags.len() > MAX_HASHTAGS {
            return Err(format!("must hold at most {MAX_HASHTAGS} hashtags"));
        }
        Ok(Self { text, hashtags })
    }
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `#word` where the `#` does not follow a tag character (`a#b` is no tag).
pub fn hashtags_of(text: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut tags = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '#' && !previous.is_some_and(is_tag_char) {
            let start = i + 1;
            let mut end = start;
            while let Some(&(j, n)) = chars.peek() {
                if !is_tag_char(n) {
                    break;
                }
                end = j + n.len_utf8();
                chars.next();
            }
            let tag = text[start..end].to_lowercase();
            if !tag.is_empty() && tag.chars().count() <= MAX_TAG_CHARS && seen.insert(tag.clone()) {
                tags.push(tag);
            }
            previous = text[..end].chars().next_back();
            continue;
        }
        previous = Some(c);
    }
    tags
}

/// A hashtag from a path (`/api/tags/{tag}/videos`): with or without its `#`,
/// any case; `None` when it is not one.
pub fn tag_of(raw: &str) -> Option<String> {
    let tag = raw.trim().trim_start_matches('#').to_lowercase();
    (!tag.is_empty() && tag.chars().count() <= MAX_TAG_CHARS && tag.chars().all(is_tag_char))
        .then_some(tag)
}

/// A comment: 1 to 1,000 characters, line breaks allowed, not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentText(String);

impl CommentText {
    pub fn parse(raw: &str) -> Result<Self, String> {
        common::domain::bounded_multiline(raw, MAX_COMMENT_CHARS)?
            .map(Self)
            .ok_or_else(|| "must not be empty".to_owned())
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_are_words_after_a_hash_lower_cased_once_each() {
        assert_eq!(
            hashtags_of("Sunset #Beach #beach #été_2026 a#b #, ##x #日本"),
            vec!["beach", "été_2026", "x", "日本"]
        );
        assert_eq!(hashtags_of("no tags here"), Vec::<String>::new());
        assert_eq!(hashtags_of("#a#b"), vec!["a"]);
        assert_eq!(hashtags_of("line\n#next"), vec!["next"]);
    }

    #[test]
    fn captions_are_bounded_and_carry_at_most_30_hashtags() {
        let caption = Caption::parse("  hello #World  ").unwrap();
        assert_eq!(caption.text, "hello #World");
        assert_eq!(caption.hashtags, vec!["world"]);
        assert_eq!(Caption::parse("   ").unwrap().text, "");
        assert!(Caption::parse(&"x".repeat(2201)).is_err());
        let thirty: String = (0..30).map(|i| format!("#t{i} ")).collect();
        assert_eq!(Caption::parse(&thirty).unwrap().hashtags.len(), 30);
        let thirty_one = format!("{thirty}#t30");
        assert_eq!(
            Caption::parse(&thirty_one).unwrap_err(),
            "must hold at most 30 hashtags"
        );
    }

    #[test]
    fn tags_in_paths_take_an_optional_hash() {
        assert_eq!(tag_of("#Beach").as_deref(), Some("beach"));
        assert_eq!(tag_of("beach").as_deref(), Some("beach"));
        assert_eq!(tag_of("a b"), None);
        assert_eq!(tag_of(""), None);
    }

    #[test]
    fn comments_are_1_to_1000_characters() {
        assert!(CommentText::parse(" ").is_err());
        assert!(CommentText::parse(&"y".repeat(1001)).is_err());
        assert_eq!(CommentText::parse(" ok\n").unwrap().into_inner(), "ok");
    }
}
