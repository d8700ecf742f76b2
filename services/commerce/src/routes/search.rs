//! Search over active products with facets, and suggestions as one types.
//! Public: anyone may search, and drafts or archived products are never found.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use common::pagination::{PageMeta, PageParams, PageQuery};
use common::{ApiError, FieldErrors};
use serde::Serialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::db;
use crate::db::search::{Found, Search, Sort};
use crate::dto::{ErrorEnvelope, ProductDto};
use crate::state::AppState;

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// The most `attr.<name>` values of one search, all names together.
pub const MAX_ATTRIBUTE_FILTERS: usize = 20;
const MAX_ATTRIBUTE_NAME_CHARS: usize = 64;
const MAX_ATTRIBUTE_VALUE_CHARS: usize = 200;
/// The longest suggestion prefix, and how many suggestions at most.
const MAX_PREFIX_CHARS: usize = 100;
const MAX_SUGGESTIONS: i64 = 10;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // A resource of its own: other methods on it are 405, not the
    // `/api/products/{id}` writes with the id "suggest".
    cfg.route("/api/products", web::get().to(search))
        .service(web::resource("/api/products/suggest").route(web::get().to(suggest)));
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(search, suggest))]
pub struct ApiDoc;

/// Readies search for the configured language before the service answers:
/// refuses a language PostgreSQL does not know, and rebuilds every product's
/// search vector when the language changed since the last start.
pub async fn prepare(
    db: &common::db::Db,
    settings: &crate::config::CommerceSettings,
) -> anyhow::Result<()> {
    let language = settings.shop_search_language.trim().to_owned();
    let outcome = db
        .run(move |conn| Ok(db::search::set_language(conn, &language)))
        .await
        .map_err(|e| anyhow::anyhow!("preparing search: {e}"))?;
    if outcome? {
        tracing::info!(language = %settings.shop_search_language, "search vectors rebuilt");
    }
    Ok(())
}

/// Sets the in-stock flags of products whose stock orders flipped, every
/// `STOCK_FLAG_REFRESH_MS` (crate::db::stock), and empties the caches when a
/// flag changed (browsing facets count in-stock products). Replicas may run it
/// at once: each takes queued changes the others are not taking.
pub fn spawn_stock_flags(
    tasks: &mut common::tasks::Tasks,
    db: common::db::Db,
    cache: std::sync::Arc<crate::cache::ProductCache>,
    settings: &crate::config::CommerceSettings,
) {
    const BATCH: usize = 200;
    let every = std::time::Duration::from_millis(settings.stock_flag_refresh_ms.max(10));
    tasks.every("stock-flags", every, move || {
        let (db, cache) = (db.clone(), cache.clone());
        async move {
            // A full batch may leave more queued: another batch at once.
            loop {
                match db
                    .run(|conn| Ok(db::stock::apply_changes(conn, BATCH)?))
                    .await
                {
                    Ok((taken, flipped)) => {
                        if flipped > 0 {
                            cache.clear();
                        }
                        if taken < BATCH {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "setting in-stock flags failed; retried next tick");
                        break;
                    }
                }
            }
        }
    });
}

/// The query of `GET /api/products` (documentation; the handler reads the
/// query string itself for `attr.<name>`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only")]
struct SearchQuery {
    /// Full text, `websearch_to_tsquery` syntax: words, `"quoted phrases"`,
    /// `or`, `-word`; at most 200 characters. Plain queries also match titles
    /// with a typo.
    #[param(max_length = 200)]
    q: Option<String>,
    /// A category slug: products in it or in any of its descendants.
    category: Option<String>,
    /// Lowest price in minor units: some variant costs at least this.
    #[param(rename = "minPrice", minimum = 0)]
    min_price: Option<i64>,
    /// Highest price in minor units: some variant costs at most this.
    #[param(rename = "maxPrice", minimum = 0)]
    max_price: Option<i64>,
    /// `true`: some variant has stock available; `false`: none has.
    #[param(rename = "inStock")]
    in_stock: Option<bool>,
    /// `relevance` (default), `price`, `-price`, `newest`, `popular`.
    #[param(pattern = "^(relevance|price|-price|newest|popular)$")]
    sort: Option<String>,
    /// Page number, 1-10000 (default 1).
    #[param(minimum = 1, maximum = 10000)]
    page: Option<i64>,
    /// Items per page, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryFacet {
    pub slug: String,
    pub name: String,
    /// Matching products directly in this category.
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceFacet {
    /// The lowest variant price of the matching products; `null` when none.
    pub min: Option<i64>,
    pub max: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValueCount {
    /// Numbers and booleans as their JSON text.
    pub value: String,
    pub count: i64,
}

/// Counted over every matching product, not only the page.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Facets {
    /// Most products first.
    pub categories: Vec<CategoryFacet>,
    pub price: PriceFacet,
    /// Attribute name to its values (the 50 most frequent), most products first.
    pub attributes: BTreeMap<String, Vec<ValueCount>>,
    /// Matching products with a variant in stock.
    pub in_stock: i64,
}

/// `{items, meta, facets}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<ProductDto>,
    pub meta: PageMeta,
    pub facets: Facets,
}

/// The query of `GET /api/products/suggest` (documentation; the handler reads
/// the query string itself, as search does).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "documentation only")]
struct SuggestQuery {
    /// What was typed so far, at most 100 characters, not only white space:
    /// titles with a word that starts with it.
    #[param(required = true, max_length = 100, format = "words")]
    q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestion {
    pub slug: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Suggestions {
    /// At most 10.
    pub items: Vec<Suggestion>,
}

/// The pairs of the query string (400 when it cannot be decoded).
fn pairs_of(req: &HttpRequest) -> Result<Vec<(String, String)>, ApiError> {
    web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|_| ApiError::BadRequest("The query string cannot be decoded".to_owned()))
}

fn number(raw: &str, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    match raw.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(field, "must be a whole number");
            None
        }
    }
}

fn money(raw: &str, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    let n = number(raw, field, errors)?;
    if n < 0 {
        errors.add(field, "must not be negative");
        return None;
    }
    Some(n)
}

/// Whether a query uses the operators of `websearch_to_tsquery`; a fuzzy
/// match of such a query would ignore them ("-wireless" would find wireless).
fn has_operators(q: &str) -> bool {
    q.contains('"')
        || q.split_whitespace()
            .any(|word| word.starts_with('-') || word.eq_ignore_ascii_case("or"))
}

fn parse_search(
    pairs: Vec<(String, String)>,
    language: &str,
) -> Result<(Search, PageParams), ApiError> {
    let mut errors = FieldErrors::new();
    let mut page = PageQuery::default();
    let mut search = Search {
        language: language.to_owned(),
        q: String::new(),
        fuzzy: false,
        category: None,
        min_price: None,
        max_price: None,
        in_stock: None,
        attributes: BTreeMap::new(),
        sort: Sort::Relevance,
        offset: 0,
        limit: 0,
    };
    let mut filters = 0;
    for (key, value) in pairs {
        if value.contains('\0') {
            errors.add(key, "must not contain NUL characters");
            continue;
        }
        match key.as_str() {
            "q" => {
                let q = value.trim();
                if q.chars().count() > MAX_QUERY_CHARS {
                    errors.add("q", format!("must be at most {MAX_QUERY_CHARS} characters"));
                }
                search.q = q.to_owned();
            }
            "category" => {
                let slug = value.trim();
                search.category = (!slug.is_empty()).then(|| slug.to_owned());
            }
            "minPrice" => search.min_price = money(&value, "minPrice", &mut errors),
            "maxPrice" => search.max_price = money(&value, "maxPrice", &mut errors),
            "inStock" => match value.trim() {
                "true" => search.in_stock = Some(true),
                "false" => search.in_stock = Some(false),
                _ => errors.add("inStock", "must be true or false"),
            },
            "sort" => match Sort::parse(value.trim()) {
                Some(sort) => search.sort = sort,
                None => errors.add("sort", format!("must be one of {}", Sort::ALL.join(", "))),
            },
            "page" => page.page = number(&value, "page", &mut errors).or(Some(1)),
            "limit" => page.limit = number(&value, "limit", &mut errors).or(Some(20)),
            _ => {
                if let Some(name) = key.strip_prefix("attr.") {
                    filters += 1;
                    if name.is_empty() || name.chars().count() > MAX_ATTRIBUTE_NAME_CHARS {
                        errors.add(
                            key.as_str(),
                            format!("names must be 1-{MAX_ATTRIBUTE_NAME_CHARS} characters"),
                        );
                    } else if value.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS {
                        errors.add(
                            key.as_str(),
                            format!("must be at most {MAX_ATTRIBUTE_VALUE_CHARS} characters"),
                        );
                    } else {
                        search
                            .attributes
                            .entry(name.to_owned())
                            .or_default()
                            .push(value);
                    }
                }
            }
        }
    }
    if filters > MAX_ATTRIBUTE_FILTERS {
        errors.add(
            "attr",
            format!("at most {MAX_ATTRIBUTE_FILTERS} attribute values per search"),
        );
    }
    if let (Some(min), Some(max)) = (search.min_price, search.max_price) {
        if min > max {
            errors.add("maxPrice", "must not be below minPrice");
        }
    }
    let params = page.validate_into(&mut errors);
    errors.into_result()?;
    search.fuzzy = !search.q.is_empty() && !has_operators(&search.q);
    search.offset = params.offset();
    search.limit = params.limit;
    Ok((search, params))
}

fn page_of(found: Found, params: PageParams, currency: &str) -> Result<SearchPage, ApiError> {
    let items = found
        .views
        .into_iter()
        .map(|view| ProductDto::new(view, currency))
        .collect::<Result<Vec<_>, _>>()?;
    let page = common::pagination::Page::new(items, params, found.facets.total);
    Ok(SearchPage {
        items: page.items,
        meta: page.meta,
        facets: Facets {
            categories: found
                .facets
                .categories
                .into_iter()
                .map(|c| CategoryFacet {
                    slug: c.slug,
                    name: c.name,
                    count: c.count,
                })
                .collect(),
            price: PriceFacet {
                min: found.facets.price_min,
                max: found.facets.price_max,
            },
            attributes: found
                .facets
                .attributes
                .into_iter()
                .map(|(name, values)| {
                    let values = values
                        .into_iter()
                        .map(|(value, count)| ValueCount { value, count })
                        .collect();
                    (name, values)
                })
                .collect(),
            in_stock: found.facets.in_stock,
        },
    })
}

#[utoipa::path(get, path = "/api/products", operation_id = "searchProducts", tag = "products", security((), ("bearer" = [])),
    description = "Attribute filters are parameters named `attr.<name>`, e.g. `attr.color=red&attr.color=blue&attr.size=M`: several values of one name match any of them, different names must all match, an unknown name matches nothing; at most 20 values in all, names of at most 64 characters, values of at most 200. (OpenAPI cannot describe parameters by a name pattern, so they are not listed below.)",
    params(SearchQuery),
    responses(
        (status = 200, description = "Active products that match, with facets over all of them", body = SearchPage),
        (status = 400, description = "A query string that cannot be decoded", body = ErrorEnvelope),
        (status = 422, description = "VALIDATION_FAILED: a bad q, minPrice, maxPrice, inStock, sort, page, limit or attr value (details.fields names it)", body = ErrorEnvelope),
    ))]
pub async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (search, params) =
        parse_search(pairs_of(&req)?, state.settings.shop_search_language.trim())?;
    // Browsing (no q): the facets of the whole result may be known already.
    let browse = search.browse_key();
    let read_at = state.products.generation();
    let known = browse
        .as_deref()
        .and_then(|key| state.products.facets(key))
        .map(|facets| (*facets).clone());
    let index = state.facet_index.clone();
    let found = state
        .db
        .run(move |conn| {
            let found = db::search::run(conn, &index, &search, known)?;
            if found.facets.total == 0 && !search.q.is_empty() {
                // Best effort: a report row is not worth failing the search.
                if let Err(e) = db::analytics::record_zero_result(conn, &search.q) {
                    tracing::warn!(error = %e, "recording a search without results");
                }
            }
            Ok(found)
        })
        .await?;
    if let (Some(key), true) = (browse, found.counted) {
        state
            .products
            .put_facets(&key, read_at, found.facets.clone());
    }
    Ok(HttpResponse::Ok().json(page_of(found, params, &state.settings.shop_currency)?))
}

#[utoipa::path(get, path = "/api/products/suggest", operation_id = "suggestProducts", tag = "products", security((), ("bearer" = [])),
    params(SuggestQuery),
    responses(
        (status = 200, description = "Up to 10 active products, titles starting with the prefix first", body = Suggestions),
        (status = 400, description = "A query string that cannot be decoded", body = ErrorEnvelope),
        (status = 422, description = "VALIDATION_FAILED: q missing, blank, too long or with control characters", body = ErrorEnvelope),
    ))]
pub async fn suggest(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let q = pairs_of(&req)?
        .into_iter()
        .rev()
        .find(|(key, _)| key == "q")
        .map(|(_, value)| value)
        .ok_or_else(|| ApiError::validation("q", "is required"))?;
    let q =
        common::domain::words(&q, MAX_PREFIX_CHARS).map_err(|e| ApiError::validation("q", &e))?;
    let rows = state
        .db
        .run(move |conn| Ok(db::search::suggest(conn, &q, MAX_SUGGESTIONS)?))
        .await?;
    let items = rows
        .into_iter()
        .map(|(slug, title)| Suggestion { slug, title })
        .collect();
    Ok(HttpResponse::Ok().json(Suggestions { items }))
}
