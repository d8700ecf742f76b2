//! Queries of search: one statement finds the matching active products, the
//! ids of the page, the count and price range of the whole result and the ids
//! and revisions every other facet is counted from (crate::facet_index; the
//! filtered set is computed once), then the page's products, categories,
//! variants and images load in four batched queries.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{Array, BigInt, Bool, Float, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryResult;
use uuid::Uuid;

use crate::facet_index::FacetIndex;

use super::models::{CategoryRef, Product, ProductView, Variant};
use super::schema::{categories, product_categories, products, variants};

/// Orders of the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Matches of the query as typed first, then those through typo
    /// alternatives only, each by weighted rank, then newest; newest when
    /// there is no query.
    Relevance,
    /// Lowest variant price, cheapest first.
    Price,
    /// Lowest variant price, dearest first.
    PriceDesc,
    Newest,
    /// `views + 5 * orders` over the last 30 days of hourly rollups.
    Popular,
}

impl Sort {
    pub const ALL: [&'static str; 5] = ["relevance", "price", "-price", "newest", "popular"];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "relevance" => Some(Self::Relevance),
            "price" => Some(Self::Price),
            "-price" => Some(Self::PriceDesc),
            "newest" => Some(Self::Newest),
            "popular" => Some(Self::Popular),
            _ => None,
        }
    }
}

/// Trigram similarity from which a title word (`search_words`) is a typo
/// alternative of a query word of at least [`TYPO_MIN_CHARS`] characters
/// ("hedphones" and "headphones": 0.62), and how many alternatives a word gets.
const TYPO_SIMILARITY: f32 = 0.5;
const TYPO_MIN_CHARS: i32 = 4;
const TYPO_ALTERNATIVES: i64 = 5;
/// The most values listed per attribute facet (the most frequent ones).
pub const MAX_FACET_VALUES: usize = 50;

/// A validated search.
#[derive(Debug, Clone)]
pub struct Search {
    /// The text-search configuration (`SHOP_SEARCH_LANGUAGE`).
    pub language: String,
    /// `websearch_to_tsquery` syntax; empty for none.
    pub q: String,
    /// Also match title words like the query's words (plain queries only: no
    /// phrase, `or` or `-word`, whose meaning a fuzzy match would break).
    pub fuzzy: bool,
    /// A category slug: its products and its descendants'.
    pub category: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    /// Attribute name to the accepted values (OR within a name, AND across).
    pub attributes: BTreeMap<String, Vec<String>>,
    pub sort: Sort,
    pub offset: i64,
    pub limit: i64,
}

impl Search {
    /// For a search without `q` (browsing: the catalogue, a category, a
    /// filter), the key of its facets, which do not depend on the sort or the
    /// page: see crate::cache. `None` with a query, whose facets are counted
    /// each time.
    pub fn browse_key(&self) -> Option<String> {
        if !self.q.is_empty() {
            return None;
        }
        let mut attributes = self.attributes.clone();
        for values in attributes.values_mut() {
            values.sort_unstable();
            values.dedup();
        }
        Some(format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}",
            self.category, self.min_price, self.max_price, self.in_stock, attributes
        ))
    }
}

/// A category facet.
#[derive(Debug, Clone)]
pub struct CategoryCount {
    pub slug: String,
    pub name: String,
    pub count: i64,
}

/// What one search found.
#[derive(Debug, Clone)]
pub struct Found {
    pub views: Vec<ProductView>,
    pub facets: Facets,
    /// The facets were counted by this search (not known before).
    pub counted: bool,
}

/// The count and facets of a search's whole result, whatever the page.
#[derive(Debug, Clone)]
pub struct Facets {
    pub total: i64,
    pub categories: Vec<CategoryCount>,
    pub price_min: Option<i64>,
    pub price_max: Option<i64>,
    /// Name to (value, count), most frequent first.
    pub attributes: BTreeMap<String, Vec<(String, i64)>>,
    /// Matching products with a variant that has stock available.
    pub in_stock: i64,
}

enum Bind {
    Text(String),
    BigInt(i64),
    TextArray(Vec<String>),
}

/// SQL text with its parameters, numbered as they are added.
#[derive(Default)]
struct Statement {
    binds: Vec<Bind>,
}

impl Statement {
    fn arg(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        format!("${}", self.binds.len())
    }

    fn query(self, sql: String) -> BoxedSqlQuery<'static, Pg, diesel::query_builder::SqlQuery> {
        let mut query = diesel::sql_query(sql).into_boxed::<Pg>();
        for bind in self.binds {
            query = match bind {
                Bind::Text(v) => query.bind::<Text, _>(v),
                Bind::BigInt(v) => query.bind::<BigInt, _>(v),
                Bind::TextArray(v) => query.bind::<Array<Text>, _>(v),
            };
        }
        query
    }
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = BigInt)]
    total: i64,
    /// Every match's id, its `facet_rev` and its sort keys, in one order.
    #[diesel(sql_type = Array<SqlUuid>)]
    matches: Vec<Uuid>,
    #[diesel(sql_type = Array<BigInt>)]
    revs: Vec<i64>,
    #[diesel(sql_type = Array<Timestamptz>)]
    created: Vec<DateTime<Utc>>,
    /// Empty unless matches of the query as typed are to be told apart.
    #[diesel(sql_type = Array<Bool>)]
    exact: Vec<bool>,
    /// Empty unless the order is by relevance to a query.
    #[diesel(sql_type = Array<Float>)]
    rank: Vec<f32>,
    /// The lowest price or the popularity; empty unless sorted by one.
    #[diesel(sql_type = Array<Nullable<BigInt>>)]
    number: Vec<Option<i64>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    price_min: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    price_max: Option<i64>,
    #[diesel(sql_type = BigInt)]
    in_stock: i64,
}

/// What [`typo_alternatives`] found for a query.
struct Alternatives {
    /// The words of the query, each with its alternatives.
    words: Vec<(String, Vec<String>)>,
    /// Some active product matches the query as typed.
    exact: bool,
}

/// The words of `q` (the `simple` parser's tokens) that are not stop words of
/// `language` (those match nothing and would leave only their alternatives),
/// each with up to [`TYPO_ALTERNATIVES`] title words like it, most alike
/// first, and whether anything matches `q` as typed (a typo usually matches
/// nothing, and then no match needs telling apart from the others). `%` finds
/// candidates through the trigram index at pg_trgm's threshold (0.3 unless
/// the database sets another), then the similarity is checked against
/// [`TYPO_SIMILARITY`]: no setting to change first, so no transaction and no
/// extra round trip. Not prepared: the language is a constant of the text
/// (see [`regconfig_literal`]), so that the planner reads the tsquery's
/// selectivity and probes the full-text index. (PostgreSQL's notice about a
/// stop word among the alternatives is dropped by diesel's connection.)
fn typo_alternatives(
    conn: &mut PgConnection,
    language: &str,
    q: &str,
) -> QueryResult<Alternatives> {
    #[derive(QueryableByName)]
    struct Alternative {
        #[diesel(sql_type = Text)]
        word: String,
        #[diesel(sql_type = Nullable<Text>)]
        alternative: Option<String>,
        #[diesel(sql_type = Bool)]
        exact: bool,
    }
    let lang = regconfig_literal(language);
    let rows = diesel::sql_query(format!(
        "SELECT q.word, a.word AS alternative,
                (SELECT EXISTS (SELECT 1 FROM products p
                    WHERE p.status = 'active' AND p.search_vector @@ websearch_to_tsquery({lang}, $1))) AS exact
         FROM (SELECT lexeme AS word FROM unnest(to_tsvector('simple'::regconfig, $1))) q
         LEFT JOIN LATERAL (
             SELECT w.word FROM search_words w
             WHERE char_length(q.word) >= $2 AND w.word % q.word AND w.word <> q.word
               AND similarity(w.word, q.word) >= $3
             ORDER BY similarity(w.word, q.word) DESC, w.word LIMIT $4
         ) a ON true
         WHERE numnode(plainto_tsquery({lang}, q.word)) > 0
         ORDER BY q.word"
    ))
    .bind::<Text, _>(q)
    .bind::<diesel::sql_types::Integer, _>(TYPO_MIN_CHARS)
    .bind::<diesel::sql_types::Float, _>(TYPO_SIMILARITY)
    .bind::<BigInt, _>(TYPO_ALTERNATIVES)
    .load::<Alternative>(conn)?;
    let exact = rows.first().is_some_and(|row| row.exact);
    let mut words: Vec<(String, Vec<String>)> = Vec::new();
    for row in rows {
        match words.last_mut() {
            Some((word, alternatives)) if *word == row.word => alternatives.extend(row.alternative),
            _ => words.push((row.word, row.alternative.into_iter().collect())),
        }
    }
    Ok(Alternatives { words, exact })
}

/// `language` as a `regconfig` constant of the statement. A parameter cast
/// to `regconfig` is not a constant to the planner (the cast reads the
/// catalog), so every tsquery built from it would be parsed and stemmed again
/// for each row it is compared with: 2.5x the time of a 4,000-match search.
/// The name is one PostgreSQL knows (checked at start by [`set_language`]).
fn regconfig_literal(language: &str) -> String {
    format!("'{}'::regconfig", language.replace('\'', "''"))
}

/// Runs `search`: the typo alternatives, one statement for the matches with
/// their sort keys and the facets' inputs (or, when `known` has the facets
/// already, one for the page alone), the rows `index` lacks and the counted
/// categories' names, then the page's products. No transaction: each
/// statement of READ COMMITTED reads its own snapshot either way, and a
/// product deleted in between is left out of the page and of the facets it
/// was not counted in yet.
pub fn run(
    conn: &mut PgConnection,
    index: &FacetIndex,
    search: &Search,
    known: Option<Facets>,
) -> QueryResult<Found> {
    let mut st = Statement::default();
    let mut filters = vec!["p.status = 'active'".to_owned()];
    let has_q = !search.q.is_empty();
    // What tells the matches of the query as typed from those through typo
    // alternatives only, and their weighted rank (relevance only).
    let mut exact_key = None;
    let mut rank_key = None;
    if has_q {
        let lang = regconfig_literal(&search.language);
        let q = st.arg(Bind::Text(search.q.clone()));
        let exact = format!("websearch_to_tsquery({lang}, {q})");
        let alternatives = if search.fuzzy {
            typo_alternatives(conn, &search.language, &search.q)?
        } else {
            Alternatives {
                words: Vec::new(),
                exact: true,
            }
        };
        let fuzzy = alternatives
            .words
            .iter()
            .any(|(_, alternatives)| !alternatives.is_empty());
        // Each word or one of its alternatives. That holds for every match of
        // the query as typed too (a fuzzy query is a plain one: its words,
        // all of them), so the query itself need not be OR-ed in.
        let matching = if fuzzy {
            let groups: Vec<String> = alternatives
                .words
                .into_iter()
                .map(|(word, alternatives)| {
                    let terms: Vec<String> = std::iter::once(word)
                        .chain(alternatives)
                        .map(|term| {
                            let term = st.arg(Bind::Text(term));
                            format!("plainto_tsquery({lang}, {term})")
                        })
                        .collect();
                    format!("({})", terms.join(" || "))
                })
                .collect();
            format!("({})", groups.join(" && "))
        } else {
            exact.clone()
        };
        filters.push(format!("p.search_vector @@ {matching}"));
        if search.sort == Sort::Relevance {
            // Without alternatives every match is one of the query as typed;
            // when nothing matches it as typed, none is.
            if fuzzy && alternatives.exact {
                exact_key = Some(format!("p.search_vector @@ {exact}"));
            }
            rank_key = Some(format!("ts_rank(p.search_vector, {matching})"));
        }
    }
    if let Some(slug) = &search.category {
        let slug = st.arg(Bind::Text(slug.clone()));
        // The subtree's ids are computed once; the row's category_ids are in
        // the search index with the words and attributes.
        filters.push(format!(
            "p.category_ids && ARRAY(
                WITH RECURSIVE sub AS (
                    SELECT id FROM categories WHERE slug = {slug}
                    UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id)
                SELECT id FROM sub)"
        ));
    }
    if search.min_price.is_some() || search.max_price.is_some() {
        let min = st.arg(Bind::BigInt(search.min_price.unwrap_or(0)));
        let max = st.arg(Bind::BigInt(search.max_price.unwrap_or(i64::MAX)));
        // The product's price range first (on its row), then a variant in it.
        filters.push(format!(
            "p.price_min <= {max} AND p.price_max >= {min} AND EXISTS (SELECT 1 FROM variants v WHERE v.product_id = p.id AND v.price_minor BETWEEN {min} AND {max})"
        ));
    }
    match search.in_stock {
        Some(true) => filters.push("p.in_stock".to_owned()),
        Some(false) => filters.push("NOT p.in_stock".to_owned()),
        None => {}
    }
    for (name, values) in &search.attributes {
        let pairs = values.iter().map(|v| format!("{name}\u{1f}{v}")).collect();
        let pairs = st.arg(Bind::TextArray(pairs));
        filters.push(format!("p.attribute_pairs && {pairs}::text[]"));
    }
    // The price or the popularity the order goes by, when it does.
    let number_key = match search.sort {
        Sort::Price | Sort::PriceDesc => Some("p.price_min"),
        // Read at run time: the rollups' table comes with a later migration.
        Sort::Popular => Some(
            "coalesce((SELECT sum(a.views + 5 * a.orders) FROM analytics_hourly a
                WHERE a.product_id = p.id AND a.hour >= now() - interval '30 days'), 0)::int8",
        ),
        Sort::Relevance | Sort::Newest => None,
    };
    let filters = filters.join(" AND ");
    if let Some(facets) = known {
        // Browsing: the page straight from the products (an index in the
        // order's order serves `newest`).
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = SqlUuid)]
            id: Uuid,
        }
        let order = match search.sort {
            Sort::Relevance | Sort::Newest => "p.created_at DESC, p.id DESC".to_owned(),
            Sort::Price => format!(
                "{} ASC NULLS LAST, p.created_at DESC, p.id DESC",
                number_key.unwrap_or("0")
            ),
            Sort::PriceDesc | Sort::Popular => format!(
                "{} DESC NULLS LAST, p.created_at DESC, p.id DESC",
                number_key.unwrap_or("0")
            ),
        };
        let limit = st.arg(Bind::BigInt(search.limit));
        let offset = st.arg(Bind::BigInt(search.offset));
        let sql = format!(
            "SELECT p.id FROM products p WHERE {filters} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
        );
        let ids: Vec<Uuid> = st
            .query(sql)
            .load::<Id>(conn)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        // The page must hold what the count it is answered with says it
        // holds; otherwise the products changed since the facets were counted
        // (stock that orders flipped, a write not announced yet): count again.
        let found = i64::try_from(ids.len()).unwrap_or(i64::MAX);
        let expected = (facets.total - search.offset).clamp(0, search.limit);
        if found != expected {
            return run(conn, index, search, None);
        }
        return Ok(Found {
            views: views_of(conn, &ids)?,
            facets,
            counted: false,
        });
    }
    // One pass over the matches: the count, the price range and the in-stock
    // count, and every match's id, facet revision and sort keys. The page is
    // a partial sort of those here (crate::db::search::page_of_keys), the
    // facets of attributes and categories are counted by the replica from
    // the ids and revisions (crate::facet_index).
    let sql = format!(
        "SELECT count(*) AS total,
                coalesce(array_agg(p.id), '{{}}') AS matches,
                coalesce(array_agg(p.facet_rev), '{{}}') AS revs,
                coalesce(array_agg(p.created_at), '{{}}') AS created,
                {exact} AS exact, {rank} AS rank, {number} AS number,
                min(p.price_min) AS price_min, max(p.price_max) AS price_max,
                count(*) FILTER (WHERE p.in_stock) AS in_stock
         FROM products p WHERE {filters}",
        exact = exact_key.map_or("'{}'::bool[]".to_owned(), |k| format!(
            "coalesce(array_agg({k}), '{{}}')"
        )),
        rank = rank_key.map_or("'{}'::float4[]".to_owned(), |k| format!(
            "coalesce(array_agg({k}), '{{}}')"
        )),
        number = number_key.map_or("'{}'::int8[]".to_owned(), |k| format!(
            "coalesce(array_agg({k}), '{{}}')"
        )),
    );
    let row: Row = st.query(sql).get_result(conn)?;
    let ids = page_of_keys(&row, search.sort, search.offset, search.limit);
    let counts = index.count(conn, &row.matches, &row.revs, MAX_FACET_VALUES)?;
    let categories = category_counts(conn, counts.categories)?;
    let views = views_of(conn, &ids)?;
    Ok(Found {
        views,
        counted: true,
        facets: Facets {
            total: row.total,
            categories,
            price_min: row.price_min,
            price_max: row.price_max,
            attributes: counts.attributes,
            in_stock: row.in_stock,
        },
    })
}

/// The ids of the page `offset..offset + limit` of the matches in `row` in
/// the order of `sort`, as the statement's `ORDER BY` would give them:
/// matches of the query as typed first, then by rank (relevance); prices with
/// none last either way; the newest first, then the greatest id, to break
/// ties. A partial sort: only the first `offset + limit` are put in order.
fn page_of_keys(row: &Row, sort: Sort, offset: i64, limit: i64) -> Vec<Uuid> {
    let n = row.matches.len();
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(n);
    let end = usize::try_from(offset.saturating_add(limit))
        .unwrap_or(usize::MAX)
        .min(n);
    if start >= end {
        return Vec::new();
    }
    let exact = |i: usize| row.exact.get(i).copied().unwrap_or(false);
    let rank = |i: usize| row.rank.get(i).copied().unwrap_or(0.0);
    let number = |i: usize| row.number.get(i).copied().flatten();
    let first = |a: &usize, b: &usize| -> Ordering {
        let (a, b) = (*a, *b);
        let primary = match sort {
            Sort::Relevance => exact(b)
                .cmp(&exact(a))
                .then_with(|| rank(b).total_cmp(&rank(a))),
            Sort::Newest => Ordering::Equal,
            Sort::Price => nulls_last(number(a), number(b), |x, y| x.cmp(&y)),
            Sort::PriceDesc | Sort::Popular => nulls_last(number(a), number(b), |x, y| y.cmp(&x)),
        };
        primary
            .then_with(|| row.created[b].cmp(&row.created[a]))
            .then_with(|| row.matches[b].cmp(&row.matches[a]))
    };
    let mut order: Vec<usize> = (0..n).collect();
    if end < n {
        order.select_nth_unstable_by(end - 1, first);
        order.truncate(end);
    }
    order.sort_unstable_by(first);
    order[start..end].iter().map(|&i| row.matches[i]).collect()
}

/// `cmp` of two values, a missing one after any other.
fn nulls_last(a: Option<i64>, b: Option<i64>, cmp: impl Fn(i64, i64) -> Ordering) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => cmp(a, b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The category facet: each counted category's slug and name, most
/// frequent first, then by slug (a category deleted since is left out).
fn category_counts(
    conn: &mut PgConnection,
    counted: Vec<(Uuid, i64)>,
) -> QueryResult<Vec<CategoryCount>> {
    if counted.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = counted.iter().map(|(id, _)| *id).collect();
    let mut names: HashMap<Uuid, (String, String)> = categories::table
        .filter(categories::id.eq_any(&ids))
        .select((categories::id, categories::slug, categories::name))
        .load::<(Uuid, String, String)>(conn)?
        .into_iter()
        .map(|(id, slug, name)| (id, (slug, name)))
        .collect();
    let mut found: Vec<CategoryCount> = counted
        .into_iter()
        .filter_map(|(id, count)| {
            names
                .remove(&id)
                .map(|(slug, name)| CategoryCount { slug, name, count })
        })
        .collect();
    found.sort_unstable_by(|a, b| b.count.cmp(&a.count).then_with(|| a.slug.cmp(&b.slug)));
    Ok(found)
}

/// The products of `ids` with their categories and variants, in the order of
/// `ids`: four queries whatever the number.
pub fn views_of(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<ProductView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: HashMap<Uuid, Product> = products::table
        .filter(products::id.eq_any(ids))
        .select(Product::as_select())
        .load::<Product>(conn)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut categories_of: HashMap<Uuid, Vec<CategoryRef>> = HashMap::new();
    for (product_id, category) in product_categories::table
        .inner_join(categories::table)
        .filter(product_categories::product_id.eq_any(ids))
        .order((product_categories::product_id, product_categories::position))
        .select((
            product_categories::product_id,
            (categories::id, categories::slug, categories::name),
        ))
        .load::<(Uuid, CategoryRef)>(conn)?
    {
        categories_of.entry(product_id).or_default().push(category);
    }
    let mut variants_of: HashMap<Uuid, Vec<Variant>> = HashMap::new();
    for variant in variants::table
        .filter(variants::product_id.eq_any(ids))
        .order((variants::product_id, variants::position, variants::id))
        .select(Variant::as_select())
        .load::<Variant>(conn)?
    {
        variants_of
            .entry(variant.product_id)
            .or_default()
            .push(variant);
    }
    let mut images_of = super::images::images_of_many(conn, ids)?;
    Ok(ids
        .iter()
        .filter_map(|id| {
            found.remove(id).map(|product| ProductView {
                categories: categories_of.remove(id).unwrap_or_default(),
                variants: variants_of.remove(id).unwrap_or_default(),
                images: images_of.remove(id).unwrap_or_default(),
                product,
            })
        })
        .collect())
}

/// Up to `limit` active products whose title has a word starting with
/// `prefix` (case-insensitive): titles that start with it first, then the
/// shorter ones.
pub fn suggest(
    conn: &mut PgConnection,
    prefix: &str,
    limit: i64,
) -> QueryResult<Vec<(String, String)>> {
    #[derive(QueryableByName)]
    struct Suggestion {
        #[diesel(sql_type = Text)]
        slug: String,
        #[diesel(sql_type = Text)]
        title: String,
    }
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    diesel::sql_query(
        "SELECT slug, title FROM products
         WHERE status = 'active' AND (title ILIKE $1 || '%' OR title ILIKE '% ' || $1 || '%')
         ORDER BY (title ILIKE $1 || '%') DESC, char_length(title), title, id
         LIMIT $2",
    )
    .bind::<Text, _>(escaped)
    .bind::<BigInt, _>(limit)
    .load::<Suggestion>(conn)
    .map(|rows| rows.into_iter().map(|s| (s.slug, s.title)).collect())
}

/// Makes `language` the configuration of every search vector: `Err` names
/// it when PostgreSQL has no such text-search configuration; rebuilds the
/// vectors when it differs from the stored one. Returns whether it rebuilt.
pub fn set_language(conn: &mut PgConnection, language: &str) -> Result<bool, anyhow::Error> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    conn.transaction(|conn| {
        let known = diesel::sql_query("SELECT cfgname::text AS name FROM pg_ts_config WHERE cfgname = $1")
            .bind::<Text, _>(language)
            .load::<Name>(conn)?;
        if known.is_empty() {
            anyhow::bail!(
                "SHOP_SEARCH_LANGUAGE {language:?} is not a text search configuration of the database (see pg_ts_config: english, german, simple, ...)"
            );
        }
        let stored = diesel::sql_query(
            "SELECT cfg.cfgname::text AS name FROM search_settings s JOIN pg_ts_config cfg ON cfg.oid = s.language FOR UPDATE OF s",
        )
        .load::<Name>(conn)?;
        if stored.first().is_some_and(|s| s.name == language) {
            return Ok(false);
        }
        diesel::sql_query("UPDATE search_settings SET language = $1::regconfig")
            .bind::<Text, _>(language)
            .execute(conn)?;
        // Every product, locked in id order first as every other writer of
        // several products locks them (crate::db::stock, category
        // reassignment): an UPDATE of the whole table would take them in
        // physical order and could deadlock with those.
        diesel::sql_query("SELECT id FROM products ORDER BY id FOR NO KEY UPDATE").execute(conn)?;
        diesel::sql_query(
            "UPDATE products SET search_vector = commerce_product_vector($1::regconfig, title, description, attributes)",
        )
        .bind::<Text, _>(language)
        .execute(conn)?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// Matches 0..n, each newer than the one before, ids in the other order
    /// (so that the id decides only where `created` ties).
    fn row(n: usize) -> Row {
        Row {
            total: n as i64,
            matches: (0..n).map(|i| Uuid::from_u128(1000 - i as u128)).collect(),
            revs: vec![1; n],
            created: (0..n)
                .map(|i| Utc.timestamp_opt(1_700_000_000 + i as i64, 0).unwrap())
                .collect(),
            exact: Vec::new(),
            rank: Vec::new(),
            number: Vec::new(),
            price_min: None,
            price_max: None,
            in_stock: 0,
        }
    }

    fn positions(row: &Row, page: Vec<Uuid>) -> Vec<usize> {
        page.iter()
            .map(|id| row.matches.iter().position(|m| m == id).unwrap())
            .collect()
    }

    #[test]
    fn relevance_puts_the_query_as_typed_first_then_rank_then_the_newest() {
        let mut r = row(5);
        r.exact = vec![false, true, false, true, false];
        r.rank = vec![0.5, 0.1, 0.9, 0.1, 0.9];
        let page = |offset, limit| positions(&r, page_of_keys(&r, Sort::Relevance, offset, limit));
        assert_eq!(page(0, 20), [3, 1, 4, 2, 0]);
        // A page from the partial sort is the same slice of the whole order.
        assert_eq!(page(0, 2), [3, 1]);
        assert_eq!(page(1, 2), [1, 4]);
        assert_eq!(page(2, 2), [4, 2]);
        assert_eq!(page(4, 5), [0]);
        assert_eq!(page(5, 5), Vec::<usize>::new());
        assert_eq!(page(i64::MAX, i64::MAX), Vec::<usize>::new());
        // Without exact flags or ranks (no query): newest first.
        let plain = row(4);
        assert_eq!(
            positions(&plain, page_of_keys(&plain, Sort::Relevance, 1, 2)),
            [2, 1]
        );
        assert_eq!(
            positions(&plain, page_of_keys(&plain, Sort::Newest, 0, 3)),
            [3, 2, 1]
        );
    }

    #[test]
    fn prices_without_a_value_come_last_both_ways_and_ties_go_newest_first() {
        let mut r = row(5);
        r.number = vec![Some(300), None, Some(100), Some(300), None];
        assert_eq!(
            positions(&r, page_of_keys(&r, Sort::Price, 0, 5)),
            [2, 3, 0, 4, 1]
        );
        assert_eq!(
            positions(&r, page_of_keys(&r, Sort::PriceDesc, 0, 5)),
            [3, 0, 2, 4, 1]
        );
        assert_eq!(
            positions(&r, page_of_keys(&r, Sort::PriceDesc, 1, 3)),
            [0, 2, 4]
        );
        r.number = vec![Some(15), Some(18), Some(0), Some(18), Some(12)];
        assert_eq!(positions(&r, page_of_keys(&r, Sort::Popular, 0, 2)), [3, 1]);
    }

    #[test]
    fn equal_times_are_told_apart_by_the_greatest_id() {
        let mut r = row(3);
        r.created = vec![r.created[0]; 3];
        // ids 1000, 999, 998: the greatest first.
        assert_eq!(
            positions(&r, page_of_keys(&r, Sort::Newest, 0, 3)),
            [0, 1, 2]
        );
        assert_eq!(positions(&r, page_of_keys(&r, Sort::Newest, 1, 1)), [1]);
    }
}
