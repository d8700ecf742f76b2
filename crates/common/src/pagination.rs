//! Page (`?page&limit`) and cursor (`?cursor&limit`) lists, validated the same way
//! everywhere: limit 1-100, page from 1.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, FieldErrors};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;
/// Deep pages cost an OFFSET scan; past this, clients should use a cursor list.
pub const MAX_PAGE: i64 = 10_000;

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, 1-10000 (default 1).
    #[param(minimum = 1, maximum = 10000)]
    pub page: Option<i64>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageParams {
    pub page: i64,
    pub limit: i64,
}

impl PageQuery {
    pub fn validate(self) -> Result<PageParams, ApiError> {
        let mut errors = FieldErrors::new();
        let params = self.validate_into(&mut errors);
        errors.into_result()?;
        Ok(params)
    }

    /// Adds what is wrong to `errors`, for handlers that check other parameters
    /// too and answer one 422; the params are meaningful only when nothing was added.
    pub fn validate_into(self, errors: &mut FieldErrors) -> PageParams {
        let page = self.page.unwrap_or(1);
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_PAGE).contains(&page) {
            errors.add("page", format!("must be between 1 and {MAX_PAGE}"));
        }
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.add("limit", format!("must be between 1 and {MAX_LIMIT}"));
        }
        PageParams { page, limit }
    }
}

impl PageParams {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.limit
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    pub page: i64,
    pub limit: i64,
    pub total: i64,
    pub total_pages: i64,
}

/// `{"items":[…],"meta":{page,limit,total,totalPages}}`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub meta: PageMeta,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, params: PageParams, total: i64) -> Self {
        let total_pages = if total == 0 {
            0
        } else {
            (total + params.limit - 1) / params.limit
        };
        Self {
            items,
            meta: PageMeta {
                page: params.page,
                limit: params.limit,
                total,
                total_pages,
            },
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    /// Opaque cursor from the previous page's `nextCursor`.
    #[param(max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

impl CursorQuery {
    /// Validates the limit and decodes the cursor into the list's key type.
    pub fn validate<K: DeserializeOwned>(&self) -> Result<(Option<K>, i64), ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::validation("limit", "must be between 1 and 100"));
        }
        let key = match &self.cursor {
            None => None,
            Some(raw) => Some(decode_cursor(raw).ok_or_else(|| {
                ApiError::validation("cursor", "is not a cursor returned by this list")
            })?),
        };
        Ok((key, limit))
    }
}

/// `{"items":[…],"nextCursor":"…"|null}`
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_cursor<K: DeserializeOwned>(raw: &str) -> Option<K> {
    if raw.len() > 512 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_defaults_and_bounds() {
        let p = PageQuery::default().validate().unwrap();
        assert_eq!((p.page, p.limit, p.offset()), (1, 20, 0));
        let p = PageQuery {
            page: Some(3),
            limit: Some(10),
        }
        .validate()
        .unwrap();
        assert_eq!(p.offset(), 20);
        for (page, limit) in [(0, 10), (1, 0), (1, 101), (-1, 5)] {
            assert!(PageQuery {
                page: Some(page),
                limit: Some(limit)
            }
            .validate()
            .is_err());
        }
    }

    #[test]
    fn total_pages_round_up() {
        let params = PageParams { page: 1, limit: 20 };
        assert_eq!(Page::new(Vec::<u8>::new(), params, 42).meta.total_pages, 3);
        assert_eq!(Page::new(Vec::<u8>::new(), params, 0).meta.total_pages, 0);
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let raw = encode_cursor(&("2026-01-01T00:00:00Z", 7));
        let q = CursorQuery {
            cursor: Some(raw),
            limit: Some(5),
        };
        let (key, limit) = q.validate::<(String, i64)>().unwrap();
        assert_eq!(key.unwrap().1, 7);
        assert_eq!(limit, 5);
        let q = CursorQuery {
            cursor: Some("!!".into()),
            limit: None,
        };
        assert!(q.validate::<(String, i64)>().is_err());
    }
}
