//! The OpenAPI document, generated from the handlers' annotations and committed
//! as `proto-docs/commerce.openapi.json` (a test fails when the two drift).

use utoipa::OpenApi;

use crate::routes::{categories, inventory, products, variants};

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
    common::openapi::finish(
        ApiDoc::openapi(),
        "Reelstack commerce",
        "A shop's catalog: a category tree, products with attributes, options and variants priced in minor units, and their stock with a ledger of every change. Reads of active products are public; writes need the admin role.",
    )
}
