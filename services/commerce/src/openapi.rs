//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/commerce.openapi.json` (a test fails when the two drift).

use utoipa::OpenApi;

use crate::routes::{
    analytics, cart, categories, images, inventory, orders, products, search, variants,
};

#[derive(OpenApi)]
#[openapi(paths(
    categories::list,
    categories::get_one,
    categories::create,
    categories::patch,
    categories::delete,
    products::get_one,
    products::create,
    products::patch,
    products::delete,
    variants::create,
    variants::patch,
    variants::delete,
    inventory::get_one,
    inventory::adjust,
    inventory::ledger,
))]
struct ApiDoc;

/// The finished document: what is served and committed.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(search::ApiDoc::openapi());
    doc.merge(images::ApiDoc::openapi());
    doc.merge(cart::ApiDoc::openapi());
    doc.merge(orders::ApiDoc::openapi());
    doc.merge(analytics::ApiDoc::openapi());
    common::openapi::finish(
        doc,
        "Reelstack commerce",
        "A shop's catalog: a category tree, products with attributes, options and variants priced in minor units, and their stock with a ledger of every change. Reads of active products are public; writes need the admin role.",
    )
}
