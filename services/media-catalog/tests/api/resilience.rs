//! PostgreSQL restarted under traffic: 503 with Retry-After while it is down
//! (never 500), and 200 again within 5 s of it being back, without a restart of
//! the service.

use std::time::Duration;

use reqwest::StatusCode;
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
    let list = || async {
        let resp = app.get_as("/api/library/movies", &token).await;
        (
            resp.status().as_u16(),
            resp.headers().contains_key("retry-after"),
        )
    };
    assert_eq!(list().await.0, 200);
    let report = pg
        .restart_under_traffic(Duration::from_secs(5), Duration::from_secs(8), list)
        .await;
    assert!(
        report.during_outage() > 0,
        "traffic ran while PostgreSQL was down"
    );
    assert!(report.unexpected().is_empty(), "{:?}", report.unexpected());
    assert!(
        report.recovered_after_ms() <= 5_000,
        "still failing {} ms after PostgreSQL was back",
        report.recovered_after_ms()
    );
    assert_eq!(
        app.get_as("/api/library/movies", &token).await.status(),
        StatusCode::OK
    );
}
