use common::db::Db;

use crate::config::CommerceSettings;

/// Everything a handler needs, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub settings: CommerceSettings,
}
