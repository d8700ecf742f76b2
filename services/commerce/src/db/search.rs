//! Queries of search: one statement finds the matching active products, the
//! ids of the page, the count and price range of the whole result and the ids
//! and revisions every other facet is counted from (crate::facet_index; the
//! filtered set is computed once), then the page's products, categories,
//! variants and images load in four batched queries.

use std::collections::{BTreeMap, HashMap};

use common::db::Prepared;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Uuid as SqlUuid};
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
    /// The page's.
    #[diesel(sql_type = Array<SqlUuid>)]
    ids: Vec<Uuid>,
    /// Every match's, and its `facet_rev`.
    #[diesel(sql_type = Array<SqlUuid>)]
    matches: Vec<Uuid>,
    #[diesel(sql_type = Array<BigInt>)]
    revs: Vec<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    price_min: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    price_max: Option<i64>,
    #[diesel(sql_type = BigInt)]
    in_stock: i64,
}

/// The words of `q` (the `simple` parser's tokens) that are not stop words of
/// `language` (those match nothing and would leave only their alternatives),
/// each with up to [`TYPO_ALTERNATIVES`] title words like it, most alike
/// first. `%` finds candidates through the trigram index at pg_trgm's
/// threshold (0.3 unless the database sets another), then the similarity is
/// checked against [`TYPO_SIMILARITY`]: no setting to change first, so no
/// transaction and no extra round trip. (PostgreSQL's notice about a stop word
/// among the alternatives is dropped by diesel's connection.)
fn typo_alternatives(
    conn: &mut PgConnection,
    language: &str,
    q: &str,
) -> QueryResult<Vec<(String, Vec<String>)>> {
    #[derive(QueryableByName)]
    struct Alternative {
        #[diesel(sql_type = Text)]
        word: String,
        #[diesel(sql_type = Nullable<Text>)]
        alternative: Option<String>,
    }
    let rows = Prepared::new(
        "SELECT q.word, a.word AS alternative
         FROM (SELECT lexeme AS word FROM unnest(to_tsvector('simple'::regconfig, $1))) q
         LEFT JOIN LATERAL (
             SELECT w.word FROM search_words w
             WHERE char_length(q.word) >= $2 AND w.word % q.word AND w.word <> q.word
               AND similarity(w.word, q.word) >= $3
             ORDER BY similarity(w.word, q.word) DESC, w.word LIMIT $4
         ) a ON true
         WHERE numnode(plainto_tsquery($5::regconfig, q.word)) > 0
         ORDER BY q.word",
    )
    .bind::<Text, _>(q)
    .bind::<diesel::sql_types::Integer, _>(TYPO_MIN_CHARS)
    .bind::<diesel::sql_types::Float, _>(TYPO_SIMILARITY)
    .bind::<BigInt, _>(TYPO_ALTERNATIVES)
    .bind::<Text, _>(language)
    .load::<Alternative>(conn)?;
    let mut words: Vec<(String, Vec<String>)> = Vec::new();
    for row in rows {
        match words.last_mut() {
            Some((word, alternatives)) if *word == row.word => alternatives.extend(row.alternative),
            _ => words.push((row.word, row.alternative.into_iter().collect())),
        }
    }
    Ok(words)
}

/// `language` as a `regconfig` constant of the statement. A parameter cast
/// to `regconfig` is not a constant to the planner (the cast reads the
/// catalog), so every tsquery built from it would be parsed and stemmed again
/// for each row it is compared with: 2.5x the time of a 4,000-match search.
/// The name is one PostgreSQL knows (checked at start by [`set_language`]).
fn regconfig_literal(language: &str) -> String {
    format!("'{}'::regconfig", language.replace('\'', "''"))
}

/// Runs `search`: the typo alternatives, one statement for the matches, the
/// page's ids and the facets' inputs (or, when `known` has the facets
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
    let mut keys = vec!["p.id".to_owned(), "p.created_at".to_owned()];
    let has_q = !search.q.is_empty();
    if has_q {
        let lang = regconfig_literal(&search.language);
        let q = st.arg(Bind::Text(search.q.clone()));
        let exact = format!("websearch_to_tsquery({lang}, {q})");
        let words = if search.fuzzy {
            typo_alternatives(conn, &search.language, &search.q)?
        } else {
            Vec::new()
        };
        // Each word or one of its alternatives, besides the query itself.
        let fuzzy = words
            .iter()
            .any(|(_, alternatives)| !alternatives.is_empty());
        let matching = if fuzzy {
            let groups: Vec<String> = words
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
            format!("({exact} || ({}))", groups.join(" && "))
        } else {
            exact.clone()
        };
        filters.push(format!("p.search_vector @@ {matching}"));
        // Without alternatives every match is one of the query as typed.
        keys.push(if fuzzy {
            format!("(p.search_vector @@ {exact}) AS exact")
        } else {
            "true AS exact".to_owned()
        });
        keys.push(format!("ts_rank(p.search_vector, {matching}) AS rank"));
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
    let order = match search.sort {
        Sort::Relevance if has_q => "exact DESC, rank DESC, created_at DESC, id DESC",
        Sort::Relevance | Sort::Newest => "created_at DESC, id DESC",
        Sort::Price => "price ASC NULLS LAST, created_at DESC, id DESC",
        Sort::PriceDesc => "price DESC NULLS LAST, created_at DESC, id DESC",
        Sort::Popular => "popularity DESC, created_at DESC, id DESC",
    };
    match search.sort {
        Sort::Price | Sort::PriceDesc => keys.push("p.price_min AS price".to_owned()),
        // Read at run time: the rollups' table comes with a later migration.
        Sort::Popular => keys.push(
            "coalesce((SELECT sum(a.views + 5 * a.orders) FROM analytics_hourly a
                WHERE a.product_id = p.id AND a.hour >= now() - interval '30 days'), 0) AS popularity"
                .to_owned(),
        ),
        _ => {}
    }
    let limit = st.arg(Bind::BigInt(search.limit));
    let offset = st.arg(Bind::BigInt(search.offset));
    if let Some(facets) = known {
        // The page straight from the products (an index in the order's
        // order serves `newest`).
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = SqlUuid)]
            id: Uuid,
        }
        let sql = format!(
            "SELECT {keys} FROM products p WHERE {filters} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
            keys = keys.join(", "),
            filters = filters.join(" AND "),
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
    // The page is a top-N sort of the matches; the facets of attributes and
    // categories are counted by the replica from the matches' ids and
    // revisions (crate::facet_index), the rest here in the same pass.
    let sql = format!(
        "WITH matched AS MATERIALIZED (
            SELECT {keys}, p.facet_rev, p.price_min, p.price_max, p.in_stock
            FROM products p WHERE {filters}
        )
        SELECT count(*) AS total,
               ARRAY(SELECT id FROM matched ORDER BY {order} LIMIT {limit} OFFSET {offset}) AS ids,
               coalesce(array_agg(id), '{{}}') AS matches,
               coalesce(array_agg(facet_rev), '{{}}') AS revs,
               min(price_min) AS price_min, max(price_max) AS price_max,
               count(*) FILTER (WHERE in_stock) AS in_stock
        FROM matched",
        keys = keys.join(", "),
        filters = filters.join(" AND "),
    );
    let row: Row = st.query(sql).get_result(conn)?;
    let counts = index.count(conn, &row.matches, &row.revs, MAX_FACET_VALUES)?;
    let categories = category_counts(conn, counts.categories)?;
    let views = views_of(conn, &row.ids)?;
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
