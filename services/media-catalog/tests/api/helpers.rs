use std::path::PathBuf;
use std::sync::Arc;

use media_catalog::config::Settings;
use media_catalog::Application;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use testkit::tmdb_sim::TmdbSim;
use testkit::{TestDb, TestIssuer};

pub const ISSUER: &str = "http://reelstack.test";
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
    _db: TestDb,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage_dir);
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub shared: Arc<Shared>,
    overrides: Vec<(String, String)>,
}

fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../migrations/media-catalog")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A fresh app; `overrides` are settings (`("CATALOG_TTL_LISTS_SECS", "1")`).
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    testkit::init_tracing();
    let db = TestDb::create(
        "media-catalog",
        media_catalog::db::MIGRATIONS,
        &migrations_dir(),
    )
    .expect("test database");
    let shared = Arc::new(Shared {
        sim: TmdbSim::start().await.expect("tmdb-sim starts"),
        issuer: TestIssuer::start().await,
        db_url: db.url.clone(),
        prefix: format!("test:{}", uuid::Uuid::now_v7().simple()),
        storage_dir: std::env::temp_dir().join(format!("catalog-{}", uuid::Uuid::now_v7())),
        _db: db,
    });
    let overrides = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    start(shared, overrides).await
}

async fn start(shared: Arc<Shared>, overrides: Vec<(String, String)>) -> TestApp {
    let mut vars: Vec<(String, String)> = [
        ("APP_ENV", "local"),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("WORKERS", "2"),
        ("DB_POOL_MAX_SIZE", "4"),
        ("MIGRATE_ON_START", "false"),
        ("AUTH_ISSUER", ISSUER),
        ("JWT_AUDIENCE", "reelstack"),
        ("TMDB_IMAGE_BASE_URL", IMAGE_BASE),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.extend([
        ("DATABASE_URL".to_owned(), shared.db_url.clone()),
        ("REDIS_URL".to_owned(), testkit::redis_url()),
        ("AUTH_JWKS_URL".to_owned(), shared.issuer.jwks_url.clone()),
        ("TMDB_BASE_URL".to_owned(), shared.sim.api_base.clone()),
        ("TMDB_API_KEY".to_owned(), shared.sim.api_key.clone()),
        ("CATALOG_CACHE_PREFIX".to_owned(), shared.prefix.clone()),
        (
            "STORAGE_DIR".to_owned(),
            shared.storage_dir.display().to_string(),
        ),
    ]);
    for (k, v) in &overrides {
        vars.retain(|(key, _)| key != k);
        vars.push((k.clone(), v.clone()));
    }
    let settings = Settings::load_from(vars).expect("settings");
    let app = Application::build(settings)
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
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

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let mut req = self.client.request(method, self.url(path));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        self.request(method, path, token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token))
            .send()
            .await
            .expect("request sent")
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
    let boundary = format!("reelstack{}", uuid::Uuid::now_v7().simple());
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {part_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub use testkit::api::{assert_error, error_fields};
