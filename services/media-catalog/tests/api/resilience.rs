//! PostgreSQL restarted under traffic: 503 with Retry-After while it is down
//! (never 500), and 200 again within 5 s of it being back, without a restart of
//! the service.

use testkit::PgServer;

use crate::helpers::*;

#[tokio::test]
async fn a_postgresql_restart_is_503_then_recovers_within_5_s() {
    let pg = PgServer::start().expect("a PostgreSQL of the test's own");
    let url = pg
        .migrated_database("catalog", media_catalog::db::MIGRATIONS)
        .expect("migrated");
    let app = spawn_app_on_database(&url, &[("DB_POOL_TIMEOUT_MS", "1000")]).await;
    let token = app.new_user();
    pg.assert_a_restart_is_503_then_recovers(|| app.get_as("/api/library/movies", &token))
        .await;
}
