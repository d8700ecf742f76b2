use common::db::Db;

use crate::config::DirectorySettings;
use crate::directory::IdentitySources;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub sources: IdentitySources,
    pub settings: DirectorySettings,
}
