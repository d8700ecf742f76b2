use common::db::Db;

use crate::catalog::Catalog;
use crate::config::CatalogSettings;
use crate::posters::PosterStore;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub catalog: Catalog,
    pub posters: PosterStore,
    pub settings: CatalogSettings,
}
