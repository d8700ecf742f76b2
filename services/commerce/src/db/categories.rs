//! The category tree. Every write takes one transaction-scoped advisory lock on
//! the tree, so two moves can never make a cycle between them and a delete
//! never races a new child; category writes are rare admin actions.
//!
//! A category's `path` is the slugs from its root down to it joined by `/`
//! (`clothing/shoes/running`): computed when read, so renaming or moving a
//! category changes its descendants' paths without rewriting them.

use std::collections::HashMap;

use common::error::ResultExt;
use common::ApiError;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::models::Category;
use super::schema::{categories, product_categories, products};
use crate::domain::Slug;
use crate::errors;

/// The key of the tree's advisory lock.
const TREE_LOCK: i64 = 0x636f_6d6d_6361_7401;
/// Deeper than any real shop's tree; a guard for the recursive walks.
const MAX_DEPTH: i32 = 100;

fn lock_tree(conn: &mut PgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<BigInt, _>(TREE_LOCK)
        .execute(conn)
        .map(|_| ())
}

/// A new category; `slug: None` makes one from the name, `position: None`
/// puts it after its last sibling.
pub struct NewCategory {
    pub slug: Option<Slug>,
    pub name: String,
    pub parent_id: Option<Uuid>,
    pub position: Option<i32>,
}

/// What a PATCH changes; `parent_id: Some(None)` makes it a root.
#[derive(Default)]
pub struct CategoryChanges {
    pub slug: Option<Slug>,
    pub name: Option<String>,
    pub parent_id: Option<Option<Uuid>>,
    pub position: Option<i32>,
}

#[derive(AsChangeset)]
#[diesel(table_name = categories)]
struct CategoryUpdate {
    slug: Option<String>,
    name: Option<String>,
    parent_id: Option<Option<Uuid>>,
    position: Option<i32>,
}

/// A category with its path.
#[derive(Debug, Clone)]
pub struct Placed {
    pub category: Category,
    pub path: String,
}

/// The whole tree in depth-first order: every category after its parent,
/// siblings by position, then slug.
pub fn tree(conn: &mut PgConnection) -> QueryResult<Vec<Placed>> {
    let all: Vec<Category> = categories::table
        .select(Category::as_select())
        .order((categories::position, categories::slug))
        .load(conn)?;
    Ok(depth_first(all))
}

fn depth_first(all: Vec<Category>) -> Vec<Placed> {
    let mut children: HashMap<Option<Uuid>, Vec<Category>> = HashMap::new();
    for category in all {
        children
            .entry(category.parent_id)
            .or_default()
            .push(category);
    }
    let mut out = Vec::new();
    // (category, its parent's path), deepest last; children are pushed in
    // reverse so that they come out in order.
    let mut stack: Vec<(Category, String)> = children
        .remove(&None)
        .unwrap_or_default()
        .into_iter()
        .rev()
        .map(|c| (c, String::new()))
        .collect();
    while let Some((category, parent_path)) = stack.pop() {
        let path = if parent_path.is_empty() {
            category.slug.clone()
        } else {
            format!("{parent_path}/{}", category.slug)
        };
        if let Some(kids) = children.remove(&Some(category.id)) {
            stack.extend(kids.into_iter().rev().map(|c| (c, path.clone())));
        }
        out.push(Placed { category, path });
    }
    out
}

#[derive(QueryableByName)]
struct Link {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    slug: String,
}

/// The ids and slugs from the root down to `id` (empty when it does not exist).
fn lineage(conn: &mut PgConnection, id: Uuid) -> QueryResult<Vec<(Uuid, String)>> {
    let rows: Vec<Link> = diesel::sql_query(
        "WITH RECURSIVE up (id, slug, parent_id, depth) AS ( \
           SELECT id, slug, parent_id, 0 FROM categories WHERE id = $1 \
           UNION ALL \
           SELECT c.id, c.slug, c.parent_id, up.depth + 1 \
           FROM categories c JOIN up ON c.id = up.parent_id WHERE up.depth < $2 \
         ) SELECT id, slug FROM up ORDER BY depth DESC",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<diesel::sql_types::Integer, _>(MAX_DEPTH)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.id, r.slug)).collect())
}

fn placed(conn: &mut PgConnection, category: Category) -> QueryResult<Placed> {
    let path = lineage(conn, category.id)?
        .into_iter()
        .map(|(_, slug)| slug)
        .collect::<Vec<_>>()
        .join("/");
    Ok(Placed { category, path })
}

pub fn find(conn: &mut PgConnection, slug: &str) -> QueryResult<Option<Category>> {
    categories::table
        .filter(categories::slug.eq(slug))
        .select(Category::as_select())
        .first(conn)
        .optional()
}

pub fn find_placed(conn: &mut PgConnection, slug: &str) -> QueryResult<Option<Placed>> {
    find(conn, slug)?.map(|c| placed(conn, c)).transpose()
}

/// `parentId` must name a category: 422 otherwise.
fn check_parent_exists(conn: &mut PgConnection, parent: Uuid) -> Result<(), ApiError> {
    let exists: bool =
        diesel::select(diesel::dsl::exists(categories::table.find(parent))).get_result(conn)?;
    if exists {
        Ok(())
    } else {
        Err(ApiError::validation("parentId", "names no category"))
    }
}

fn free_slug(conn: &mut PgConnection, base: &Slug) -> QueryResult<Slug> {
    super::lock_slug(conn, "category", base.as_str())?;
    let taken: Vec<String> = categories::table
        .select(categories::slug)
        .filter(
            categories::slug
                .eq(base.as_str())
                .or(categories::slug.like(format!("{}-%", base.as_str()))),
        )
        .load(conn)?;
    Ok(super::first_free(base, &taken))
}

pub fn create(conn: &mut PgConnection, new: NewCategory) -> Result<Placed, ApiError> {
    conn.transaction(|conn| {
        lock_tree(conn)?;
        if let Some(parent) = new.parent_id {
            check_parent_exists(conn, parent)?;
        }
        let slug = match new.slug {
            Some(slug) => slug,
            None => free_slug(conn, &Slug::from_title(&new.name, "category"))?,
        };
        let position = match new.position {
            Some(p) => p,
            None => next_position(conn, new.parent_id)?,
        };
        let category: Category = diesel::insert_into(categories::table)
            .values((
                categories::id.eq(Uuid::now_v7()),
                categories::slug.eq(slug.as_str()),
                categories::name.eq(&new.name),
                categories::parent_id.eq(new.parent_id),
                categories::position.eq(position),
            ))
            .returning(Category::as_returning())
            .get_result(conn)
            .on_constraint("categories_slug_key", errors::slug_taken)?;
        Ok(placed(conn, category)?)
    })
}

/// After the last sibling under `parent`.
fn next_position(conn: &mut PgConnection, parent: Option<Uuid>) -> QueryResult<i32> {
    let siblings = match parent {
        Some(parent) => categories::table
            .filter(categories::parent_id.eq(parent))
            .into_boxed(),
        None => categories::table
            .filter(categories::parent_id.is_null())
            .into_boxed(),
    };
    let last: Option<i32> = siblings
        .select(diesel::dsl::max(categories::position))
        .first(conn)?;
    Ok(last.map_or(0, |p| {
        (p + 1).min(i32::try_from(crate::domain::MAX_POSITION).unwrap_or(i32::MAX))
    }))
}

/// `None` when no category has `slug`.
pub fn update(
    conn: &mut PgConnection,
    slug: &str,
    changes: CategoryChanges,
) -> Result<Option<Placed>, ApiError> {
    conn.transaction(|conn| {
        lock_tree(conn)?;
        let Some(current) = find(conn, slug)? else {
            return Ok(None);
        };
        if let Some(Some(parent)) = changes.parent_id {
            if parent == current.id {
                return Err(ApiError::validation(
                    "parentId",
                    "must not be the category itself",
                ));
            }
            check_parent_exists(conn, parent)?;
            if lineage(conn, parent)?
                .iter()
                .any(|(id, _)| *id == current.id)
            {
                return Err(ApiError::validation(
                    "parentId",
                    "must not be one of the category's own descendants",
                ));
            }
        }
        let update = CategoryUpdate {
            slug: changes.slug.map(Slug::into_inner),
            name: changes.name,
            parent_id: changes.parent_id,
            position: changes.position,
        };
        let category: Category = diesel::update(categories::table.find(current.id))
            .set((update, categories::updated_at.eq(chrono::Utc::now())))
            .returning(Category::as_returning())
            .get_result(conn)
            .on_constraint("categories_slug_key", errors::slug_taken)?;
        Ok(Some(placed(conn, category)?))
    })
}

/// Deletes the category named `slug`; its products move to `reassign_to`
/// first when it is given. `Ok(false)` when no category has `slug`.
pub fn delete(
    conn: &mut PgConnection,
    slug: &str,
    reassign_to: Option<&str>,
) -> Result<bool, ApiError> {
    conn.transaction(|conn| {
        lock_tree(conn)?;
        let Some(category) = find(conn, slug)? else {
            return Ok(false);
        };
        let has_children: bool = diesel::select(diesel::dsl::exists(
            categories::table.filter(categories::parent_id.eq(category.id)),
        ))
        .get_result(conn)?;
        if has_children {
            return Err(errors::category_has_children());
        }
        let target = match reassign_to {
            None => None,
            Some(target) => match find(conn, target)? {
                Some(t) if t.id == category.id => {
                    return Err(ApiError::validation(
                        "reassignTo",
                        "must be another category",
                    ))
                }
                Some(t) => Some(t),
                None => return Err(ApiError::validation("reassignTo", "names no category")),
            },
        };
        let linked: Vec<Uuid> = product_categories::table
            .filter(product_categories::category_id.eq(category.id))
            .select(product_categories::product_id)
            .load(conn)?;
        if !linked.is_empty() {
            let Some(target) = target else {
                return Err(errors::category_in_use(linked.len() as i64));
            };
            reassign(conn, category.id, target.id, &linked)?;
        }
        let deleted = diesel::delete(categories::table.find(category.id)).execute(conn);
        // A product linked to it since the count above (the link's key-share
        // lock made this delete wait) keeps it: 409 as above.
        super::on_foreign_key(deleted, "product_categories_category_id_fkey", || {
            errors::category_in_use(1)
        })?;
        Ok(true)
    })
}

/// Moves the products of `from` to `to` (keeping their place in each
/// product's list; a product already in `to` keeps that link) and counts a
/// revision of each.
fn reassign(
    conn: &mut PgConnection,
    from: Uuid,
    to: Uuid,
    products_linked: &[Uuid],
) -> QueryResult<()> {
    // The products first, in id order, as every catalog write locks a product
    // before its links (the links' trigger then updates each product's row).
    products::table
        .filter(products::id.eq_any(products_linked))
        .order(products::id)
        .select(products::id)
        .for_no_key_update()
        .load::<Uuid>(conn)?;
    diesel::sql_query(
        "INSERT INTO product_categories (product_id, category_id, position) \
         SELECT product_id, $2, position FROM product_categories \
         WHERE category_id = $1 AND product_id = ANY($3) \
         ON CONFLICT (product_id, category_id) DO NOTHING",
    )
    .bind::<SqlUuid, _>(from)
    .bind::<SqlUuid, _>(to)
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(products_linked)
    .execute(conn)?;
    // Only the products locked above: one linked since keeps the category,
    // whose delete then fails on the link (409) instead of moving a product
    // nobody locked.
    diesel::delete(
        product_categories::table
            .filter(product_categories::category_id.eq(from))
            .filter(product_categories::product_id.eq_any(products_linked)),
    )
    .execute(conn)?;
    diesel::update(products::table.filter(products::id.eq_any(products_linked)))
        .set((
            products::version.eq(products::version + 1),
            products::updated_at.eq(chrono::Utc::now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn category(slug: &str, parent: Option<Uuid>, position: i32) -> Category {
        Category {
            id: Uuid::now_v7(),
            slug: slug.to_owned(),
            name: slug.to_owned(),
            parent_id: parent,
            position,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn the_tree_is_depth_first_with_paths() {
        let clothing = category("clothing", None, 0);
        let shoes = category("shoes", Some(clothing.id), 1);
        let shirts = category("shirts", Some(clothing.id), 0);
        let running = category("running", Some(shoes.id), 0);
        let books = category("books", None, 1);
        // Loaded in (position, slug) order, as `tree` loads them.
        let all = vec![clothing, running, shirts, books, shoes];
        let placed: Vec<(String, String)> = depth_first(all)
            .into_iter()
            .map(|p| (p.category.slug, p.path))
            .collect();
        let expected = [
            ("clothing", "clothing"),
            ("shirts", "clothing/shirts"),
            ("shoes", "clothing/shoes"),
            ("running", "clothing/shoes/running"),
            ("books", "books"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        assert_eq!(placed, expected);
    }
}
