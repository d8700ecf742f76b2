use std::path::PathBuf;
use std::sync::Arc;

use media_catalog::MediaCatalog;
use reqwest::Response;
use serde_json::json;
use testkit::tmdb_sim::TmdbSim;
use testkit::{Client, Env, TestDb, TestIssuer};

pub const ISSUER: &str = testkit::ISSUER;
pub const IMAGE_BASE: &str = "https://images.test/t/p";

/// A movie and a show that exist in tmdb-sim's catalog, and ids that do not.
pub const MOVIE_ID: i64 = 10_000;
pub const TV_ID: i64 = 60_000;
pub const MISSING_MOVIE_ID: i64 = 10_001;

/// What every instance of one test shares: the database, the fake TMDB, the token
/// issuer, the cache prefix in Redis and the poster folder.
pub struct Shared {
    pub sim: TmdbSim,
    pub issuer: TestIssuer,
    pub db_url: String,
    pub prefix: String,
    pub storage_dir: PathBuf,
    _db: Option<TestDb>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage_dir);
    }
}

pub struct TestApp {
    pub api: Client,
    pub shared: Arc<Shared>,
    overrides: Vec<(String, String)>,
}

testkit::deref_to_client!(TestApp);

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A fresh app; `overrides` are settings (`("CATALOG_TTL_LISTS_SECS", "1")`).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    testkit::init_tracing();
    let db = TestDb::of::<MediaCatalog>().expect("test database");
    let url = db.url.clone();
    spawn_on(url, Some(db), overrides).await
}

/// An app on a database of the test's own (a PostgreSQL it restarts).
pub async fn spawn_app_on_database(url: &str, overrides: &[(&str, &str)]) -> TestApp {
    spawn_on(url.to_owned(), None, overrides).await
}

async fn spawn_on(db_url: String, db: Option<TestDb>, overrides: &[(&str, &str)]) -> TestApp {
    let shared = Arc::new(Shared {
        sim: TmdbSim::start().await.expect("tmdb-sim starts"),
        issuer: TestIssuer::start().await,
        db_url,
        prefix: format!("test:{}", uuid::Uuid::now_v7().simple()),
        storage_dir: std::env::temp_dir().join(format!("catalog-{}", uuid::Uuid::now_v7())),
        _db: db,
    });
    start(shared, testkit::owned(overrides)).await
}

async fn start(shared: Arc<Shared>, overrides: Vec<(String, String)>) -> TestApp {
    let env = Env::new(&shared.db_url)
        .with(&[("WORKERS", "2"), ("TMDB_IMAGE_BASE_URL", IMAGE_BASE)])
        .set("REDIS_URL", testkit::redis_url())
        .set("AUTH_JWKS_URL", shared.issuer.jwks_url.clone())
        .set("TMDB_BASE_URL", shared.sim.api_base.clone())
        .set("TMDB_API_KEY", shared.sim.api_key.clone())
        .set("CATALOG_CACHE_PREFIX", shared.prefix.clone())
        .set("STORAGE_DIR", shared.storage_dir.display().to_string())
        .with(&overrides);
    let spawned = testkit::spawn::<MediaCatalog>(env).await;
    TestApp {
        api: spawned.client,
        shared,
        overrides,
    }
}

impl TestApp {
    /// Another replica: same database, TMDB, issuer, Redis prefix and settings.
    pub async fn spawn_replica(&self) -> TestApp {
        start(self.shared.clone(), self.overrides.clone()).await
    }

    pub fn sim(&self) -> &TmdbSim {
        &self.shared.sim
    }

    /// A valid access token of the first-party issuer for `subject`.
    pub fn token_for(&self, subject: &str) -> String {
        let mut claims = TestIssuer::claims(ISSUER, "reelstack", subject);
        claims["role"] = json!("user");
        claims["sid"] = json!(uuid::Uuid::now_v7().to_string());
        self.shared.issuer.mint(&claims)
    }

    /// A token for a new random user.
    pub fn new_user(&self) -> String {
        self.token_for(&uuid::Uuid::now_v7().to_string())
    }

    /// A token that expired ten minutes ago.
    pub fn expired_token(&self) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut claims = TestIssuer::claims(ISSUER, "reelstack", "someone");
        claims["role"] = json!("user");
        claims["iat"] = json!(now - 1200);
        claims["nbf"] = json!(now - 1200);
        claims["exp"] = json!(now - 600);
        self.shared.issuer.mint(&claims)
    }

    /// Signed by a key the issuer never published.
    pub fn forged_token(&self) -> String {
        let mut claims = TestIssuer::claims(ISSUER, "reelstack", "someone");
        claims["role"] = json!("user");
        let stranger = testkit::issuer::TestKey::generate("test-key-1");
        self.shared
            .issuer
            .mint_with(&stranger, Some("at+jwt"), &claims)
    }
}

pub fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `max-age` of a `Cache-Control` header.
pub fn max_age(resp: &Response) -> u64 {
    header(resp, "cache-control")
        .split(',')
        .find_map(|part| part.trim().strip_prefix("max-age="))
        .and_then(|v| v.parse().ok())
        .expect("Cache-Control has max-age")
}

/// A `multipart/form-data` body with one file field; returns (content type, body).
pub fn multipart(field: &str, filename: &str, part_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    testkit::api::multipart(&[testkit::api::Part::file(field, filename, part_type, bytes)])
}

pub use testkit::api::{assert_error, error_fields};
