//! What the facets of a search count, per product, kept by each replica: the
//! product's attribute pairs and category ids, with the `facet_rev` of its
//! row they were read at (a trigger takes a new revision whenever either
//! changes). The search statement returns the id and revision of every match;
//! a match is counted from its record here when the record's revision is at
//! least the statement's, otherwise its row is read again (one query for all
//! such). So the facets are those of the rows the search matched, or of a
//! later version of them, whatever wrote to the products and on which replica,
//! and PostgreSQL no longer unnests and groups every match's pairs and
//! categories (a third of a typo search's statement time).
//!
//! An index keeps at most [`MAX_RECORDS`] products and [`MAX_PAIRS`] distinct
//! attribute pairs (about 60 MB at most); past either, the replica starts a new
//! empty one (a search under way finishes on the one it began with), so
//! records of deleted products and pairs no longer used go at that point.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel::QueryResult;
// foldhash, randomly seeded: SipHash of every match's id was most of the
// counting's time, and the keys are ids and pairs written by admins.
use foldhash::HashMap;
use uuid::Uuid;

/// The most products an index keeps.
pub const MAX_RECORDS: usize = 200_000;
/// The most distinct attribute pairs (`name` = `value`) an index keeps.
pub const MAX_PAIRS: usize = 200_000;
/// The most rows read in one query.
const LOAD_SLICE: usize = 5_000;

/// The facets counted from the records: per category id, and per attribute
/// name its (value, count), most frequent first (ties by value), at most
/// `max_values` each.
#[derive(Debug, Default)]
pub struct Counts {
    pub categories: Vec<(Uuid, i64)>,
    pub attributes: BTreeMap<String, Vec<(String, i64)>>,
}

#[derive(Default)]
pub struct FacetIndex {
    current: RwLock<Arc<Index>>,
}

#[derive(Default)]
struct Index {
    tables: RwLock<Tables>,
}

#[derive(Default)]
struct Tables {
    records: HashMap<Uuid, Record>,
    /// Pair text (`name` U+001F `value`, as in `products.attribute_pairs`) to
    /// its number, and the numbers' pairs.
    pair_ids: HashMap<Box<str>, u32>,
    pairs: Vec<Box<str>>,
}

struct Record {
    rev: i64,
    categories: Box<[Uuid]>,
    pairs: Box<[u32]>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = BigInt)]
    facet_rev: i64,
    #[diesel(sql_type = Array<Text>)]
    attribute_pairs: Vec<String>,
    #[diesel(sql_type = Array<SqlUuid>)]
    category_ids: Vec<Uuid>,
}

impl FacetIndex {
    /// Counts the facets of the matches `ids`, read at the revisions `revs`
    /// (the same length), reading the rows of those this replica does not
    /// know at that revision. A match deleted since the statement is left out.
    pub fn count(
        &self,
        conn: &mut PgConnection,
        ids: &[Uuid],
        revs: &[i64],
        max_values: usize,
    ) -> QueryResult<Counts> {
        let index = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let misses: Vec<Uuid> = {
            let tables = index.tables.read().unwrap_or_else(PoisonError::into_inner);
            match tables.records_at(ids, revs) {
                Ok(records) => return Ok(tables.count_records(records, max_values)),
                Err(misses) => misses,
            }
        };
        // In slices, so that a cold replica's first search of the whole
        // catalogue does not hold every row's text at once.
        for slice in misses.chunks(LOAD_SLICE) {
            let rows = diesel::sql_query(
                "SELECT id, facet_rev, attribute_pairs, category_ids FROM products WHERE id = ANY($1)",
            )
            .bind::<Array<SqlUuid>, _>(slice)
            .load::<Row>(conn)?;
            let mut tables = index.tables.write().unwrap_or_else(PoisonError::into_inner);
            for row in rows {
                tables.keep(row);
            }
        }
        let tables = index.tables.read().unwrap_or_else(PoisonError::into_inner);
        let counts = tables.count(ids, max_values);
        if tables.records.len() > MAX_RECORDS || tables.pairs.len() > MAX_PAIRS {
            drop(tables);
            *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::default();
        }
        Ok(counts)
    }
}

impl Tables {
    /// The records of `ids` at their revisions `revs` or later, in one lookup
    /// each, or the ids of those not kept so.
    fn records_at(&self, ids: &[Uuid], revs: &[i64]) -> Result<Vec<&Record>, Vec<Uuid>> {
        let mut records = Vec::with_capacity(ids.len());
        let mut misses = Vec::new();
        for (id, rev) in ids.iter().zip(revs) {
            match self.records.get(id) {
                Some(record) if record.rev >= *rev => records.push(record),
                _ => misses.push(*id),
            }
        }
        if misses.is_empty() {
            Ok(records)
        } else {
            Err(misses)
        }
    }

    /// Keeps `row` unless a later revision of it is kept already (a search
    /// that read it earlier may store it after one that read it later).
    fn keep(&mut self, row: Row) {
        if self
            .records
            .get(&row.id)
            .is_some_and(|r| r.rev >= row.facet_rev)
        {
            return;
        }
        let pairs = row
            .attribute_pairs
            .into_iter()
            .map(|pair| self.number(pair))
            .collect();
        self.records.insert(
            row.id,
            Record {
                rev: row.facet_rev,
                categories: row.category_ids.into(),
                pairs,
            },
        );
    }

    fn number(&mut self, pair: String) -> u32 {
        if let Some(&n) = self.pair_ids.get(pair.as_str()) {
            return n;
        }
        // An index is replaced once it holds MAX_PAIRS, far below u32::MAX.
        let n = u32::try_from(self.pairs.len()).unwrap_or(u32::MAX);
        let pair: Box<str> = pair.into();
        self.pairs.push(pair.clone());
        self.pair_ids.insert(pair, n);
        n
    }

    /// Counts over the records of `ids` (those not kept are skipped).
    fn count(&self, ids: &[Uuid], max_values: usize) -> Counts {
        self.count_records(ids.iter().filter_map(|id| self.records.get(id)), max_values)
    }

    fn count_records<'a>(
        &'a self,
        records: impl IntoIterator<Item = &'a Record>,
        max_values: usize,
    ) -> Counts {
        let mut per_pair = vec![0i64; self.pairs.len()];
        let mut seen_pairs = Vec::new();
        let mut per_category: HashMap<Uuid, i64> = HashMap::default();
        for record in records {
            for &pair in record.pairs.iter() {
                let n = &mut per_pair[pair as usize];
                if *n == 0 {
                    seen_pairs.push(pair);
                }
                *n += 1;
            }
            for category in record.categories.iter() {
                *per_category.entry(*category).or_default() += 1;
            }
        }
        let mut attributes: BTreeMap<&str, Vec<(&str, i64)>> = BTreeMap::new();
        for pair in seen_pairs {
            let text = &self.pairs[pair as usize];
            let (name, value) = text.split_once('\u{1f}').unwrap_or((text, ""));
            attributes
                .entry(name)
                .or_default()
                .push((value, per_pair[pair as usize]));
        }
        Counts {
            categories: per_category.into_iter().collect(),
            attributes: attributes
                .into_iter()
                .map(|(name, mut values)| {
                    values.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                    values.truncate(max_values);
                    let values = values
                        .into_iter()
                        .map(|(value, n)| (value.to_owned(), n))
                        .collect();
                    (name.to_owned(), values)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: Uuid, rev: i64, pairs: &[&str], categories: &[Uuid]) -> Row {
        Row {
            id,
            facet_rev: rev,
            attribute_pairs: pairs.iter().map(|p| (*p).to_owned()).collect(),
            category_ids: categories.to_vec(),
        }
    }

    #[test]
    fn counts_each_value_of_each_name_most_frequent_first() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let shoes = Uuid::now_v7();
        let mut tables = Tables::default();
        tables.keep(row(a, 1, &["color\u{1f}red", "size\u{1f}M"], &[shoes]));
        tables.keep(row(b, 1, &["color\u{1f}blue", "size\u{1f}M"], &[shoes]));
        tables.keep(row(c, 1, &["color\u{1f}red"], &[]));
        let counts = tables.count(&[a, b, c], 50);
        assert_eq!(
            counts.attributes["color"],
            [("red".to_owned(), 2), ("blue".to_owned(), 1)]
        );
        assert_eq!(counts.attributes["size"], [("M".to_owned(), 2)]);
        assert_eq!(counts.categories, [(shoes, 2)]);
        // Only the ids asked for, and at most max_values per name.
        let counts = tables.count(&[b], 1);
        assert_eq!(counts.attributes["color"], [("blue".to_owned(), 1)]);
        let counts = tables.count(&[a, b, c], 1);
        assert_eq!(counts.attributes["color"], [("red".to_owned(), 2)]);
    }

    #[test]
    fn a_record_older_than_the_search_is_a_miss_and_never_replaces_a_newer_one() {
        let id = Uuid::now_v7();
        let mut tables = Tables::default();
        tables.keep(row(id, 5, &["color\u{1f}red"], &[]));
        assert!(tables.records_at(&[id], &[5]).is_ok());
        assert!(tables.records_at(&[id], &[4]).is_ok());
        let other = Uuid::now_v7();
        assert_eq!(
            tables.records_at(&[id, other], &[6, 1]).err(),
            Some(vec![id, other])
        );
        tables.keep(row(id, 3, &["color\u{1f}blue"], &[]));
        assert_eq!(
            tables.count(&[id], 50).attributes["color"],
            [("red".to_owned(), 1)]
        );
        tables.keep(row(id, 6, &["color\u{1f}blue"], &[]));
        assert_eq!(
            tables.count(&[id], 50).attributes["color"],
            [("blue".to_owned(), 1)]
        );
    }
}
