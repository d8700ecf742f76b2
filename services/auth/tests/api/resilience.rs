//! Losing a dependency and getting it back: PostgreSQL restarted under traffic
//! (503 with Retry-After while it is down, never 500; 200 again within 5 s of it
//! being back, without a restart of the service), and Redis gone while a
//! revocation is published.

use reqwest::StatusCode;
use serde_json::Value;
use testkit::PgServer;

use crate::helpers::*;

#[tokio::test]
async fn a_postgresql_restart_is_503_then_recovers_within_5_s() {
    let pg = PgServer::start().expect("a PostgreSQL of the test's own");
    let url = pg
        .migrated_database("auth", auth::db::MIGRATIONS)
        .expect("migrated");
    let app = spawn_app_on(&url, &[("DB_POOL_TIMEOUT_MS", "1000")]).await;
    let account = app.account().await;
    pg.assert_a_restart_is_503_then_recovers(|| app.me(&account.access))
        .await;
}

/// A revocation that Redis could not take is kept and retried until Redis has
/// it; meanwhile readiness reports it (`degraded`, with the count) rather than
/// failing open in silence.
#[tokio::test]
async fn revocations_redis_missed_are_published_once_it_is_back() {
    let mut redis = testkit::RedisServer::start().unwrap();
    let app = spawn_app_with(&[("REDIS_URL", &redis.url())]).await;
    let account = app.account().await;
    let sid = session_of(&account.access);
    redis.stop();
    assert_eq!(
        app.logout(&account.access).await.status(),
        StatusCode::NO_CONTENT
    );
    let ready: Value = app.get("/health/ready").await.json().await.unwrap();
    assert_eq!(
        ready["checks"]["revocations"], "1 not yet published to Redis",
        "{ready}"
    );
    // This process refuses the session at once, whatever Redis does.
    assert_error(
        app.me(&account.access).await,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
    )
    .await;

    redis.restart().unwrap();
    let handle = common::redis_conn::RedisHandle::connect(&redis.url())
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        // What another service loads when it (re)connects.
        let list = common::tokens::RevocationList::new();
        list.load_snapshot(&handle).await.unwrap();
        if list.contains(&sid) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never published");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let resp = app.get("/health/ready").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let ready: Value = resp.json().await.unwrap();
    assert_eq!(ready["status"], "ok", "{ready}");
    assert!(ready["checks"].get("revocations").is_none());
}

/// The `sid` claim of an access token.
fn session_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    claims["sid"].as_str().unwrap().to_owned()
}
