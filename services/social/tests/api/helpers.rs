use std::sync::Arc;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use social::Social;
use testkit::{Client, Env, TestDb, TestIssuer};

pub use testkit::api::{assert_error, error_fields};

pub const ISSUER: &str = testkit::ISSUER;
pub const PASSWORD: &str = "correct horse battery staple";
/// The client credentials the directory and social hold at auth.
const DIRECTORY_CLIENT: (&str, &str) = ("meetings", "meetings-test-secret");
const SOCIAL_CLIENT: (&str, &str) = ("social", "social-test-secret");

/// The services social talks to, for real: auth (accounts, tokens, service
/// tokens) and the directory (meeting-user-sync), each on a database of its own.
pub struct World {
    pub auth: Client,
    pub directory: Client,
    _auth_db: TestDb,
    _directory_db: TestDb,
}

impl World {
    pub async fn start(auth_overrides: &[(&str, &str)]) -> Self {
        let auth_db = TestDb::of::<auth::Auth>().expect("auth db");
        let env = Env::new(&auth_db.url)
            .with(&[
                ("AUTH_RL_SIGNUP_PER_IP_PER_HOUR", "0"),
                ("AUTH_RL_LOGIN_PER_IP_PER_MIN", "0"),
                ("AUTH_HASH_CONCURRENCY", "2"),
            ])
            .set(
                "AUTH_INTERNAL_CLIENTS",
                format!(
                    "{}:{},{}:{}",
                    DIRECTORY_CLIENT.0, DIRECTORY_CLIENT.1, SOCIAL_CLIENT.0, SOCIAL_CLIENT.1
                ),
            )
            .set("MAIL_DIR", testkit::mail::mail_dir().display().to_string())
            .with(auth_overrides);
        let auth = testkit::spawn::<auth::Auth>(env).await.client;
        let directory_db =
            TestDb::of::<meeting_user_sync::MeetingUserSync>().expect("directory db");
        let env = Env::new(&directory_db.url)
            .set("REDIS_URL", testkit::redis_url())
            .set("AUTH_JWKS_URL", auth.url("/.well-known/jwks.json"))
            .set("AUTH_INTERNAL_URL", auth.internal().address)
            .set("SERVICE_CLIENT_ID", DIRECTORY_CLIENT.0)
            .set("SERVICE_CLIENT_SECRET", DIRECTORY_CLIENT.1);
        let directory = testkit::spawn::<meeting_user_sync::MeetingUserSync>(env)
            .await
            .client;
        Self {
            auth,
            directory,
            _auth_db: auth_db,
            _directory_db: directory_db,
        }
    }
}

pub struct Shared {
    pub world: World,
    pub db_url: String,
    /// This app's Redis keys (views), apart from every other test's.
    pub redis_prefix: String,
    /// Its object storage (uploads), shared by its replicas.
    pub storage_dir: std::path::PathBuf,
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

/// A person with an account at auth, known to the directory.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A fresh app on a database of its own; `overrides` are social's settings.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn_in(World::start(&[]).await, overrides).await
}

/// An app talking to `world`.
pub async fn spawn_in(world: World, overrides: &[(&str, &str)]) -> TestApp {
    testkit::init_tracing();
    let db = TestDb::of::<Social>().expect("test database");
    let shared = Arc::new(Shared {
        world,
        db_url: db.url.clone(),
        redis_prefix: format!("test-social:{}", uuid::Uuid::now_v7().simple()),
        storage_dir: std::env::temp_dir().join(format!("social-{}", uuid::Uuid::now_v7())),
        _db: Some(db),
    });
    start(shared, testkit::owned(overrides)).await
}

async fn start(shared: Arc<Shared>, overrides: Vec<(String, String)>) -> TestApp {
    let env = env_of(&shared, &overrides);
    let spawned = testkit::spawn::<Social>(env).await;
    TestApp {
        api: spawned.client,
        shared,
        overrides,
    }
}

/// The settings of a replica of `shared`'s app.
fn env_of(shared: &Shared, overrides: &[(String, String)]) -> Env {
    let auth = &shared.world.auth;
    Env::new(&shared.db_url)
        .with(&[("WORKERS", "2"), ("DB_POOL_MAX_SIZE", "8")])
        .set("REDIS_URL", testkit::redis_url())
        .set("AUTH_JWKS_URL", auth.url("/.well-known/jwks.json"))
        .set("AUTH_INTERNAL_URL", auth.internal().address)
        .set("DIRECTORY_URL", shared.world.directory.internal().address)
        .set("SERVICE_CLIENT_ID", SOCIAL_CLIENT.0)
        .set("SERVICE_CLIENT_SECRET", SOCIAL_CLIENT.1)
        .set("SOCIAL_REDIS_PREFIX", shared.redis_prefix.clone())
        .set("STORAGE_DIR", shared.storage_dir.display().to_string())
        .with(overrides)
}

pub fn video_body(caption: &str) -> Value {
    json!({"caption": caption, "videoUrl": "https://cdn.example.com/v/clip.mp4"})
}

impl TestApp {
    /// Another replica: same database, auth, directory and settings.
    pub async fn spawn_replica(&self) -> TestApp {
        start(self.shared.clone(), self.overrides.clone()).await
    }

    /// The environment of another replica, for running the service's binary.
    pub fn replica_env(&self, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = self.overrides.clone();
        all.extend(testkit::owned(overrides));
        env_of(&self.shared, &all).into_vars()
    }

    /// Another replica with some settings of its own.
    pub async fn with_settings(&self, overrides: &[(&str, &str)]) -> TestApp {
        let mut all = self.overrides.clone();
        all.extend(testkit::owned(overrides));
        start(self.shared.clone(), all).await
    }

    pub fn directory(&self) -> &Client {
        &self.shared.world.directory
    }

    /// Signs up `name` at auth and makes the directory know them.
    pub async fn user(&self, name: impl Into<String>) -> User {
        let user = self.account(name).await;
        let resp = self
            .directory()
            .post("/api/user/sync", Some(&user.token), &json!({}))
            .await;
        assert!(
            resp.status().is_success(),
            "directory sync: {}",
            resp.status()
        );
        user
    }

    /// An account at auth that the directory has not heard of (yet).
    pub async fn account(&self, name: impl Into<String>) -> User {
        let name = name.into();
        let email = format!("u-{}@example.com", uuid::Uuid::now_v7().simple());
        let resp = self
            .shared
            .world
            .auth
            .post(
                "/api/auth/signup",
                None,
                &json!({"name": name, "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.expect("signup body");
        User {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            token: body["accessToken"].as_str().expect("token").to_owned(),
        }
    }

    /// Posts an external video; returns its JSON.
    pub async fn video(&self, user: &User, caption: &str) -> Value {
        let resp = self
            .post("/api/videos", Some(&user.token), &video_body(caption))
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.expect("video body")
    }

    pub async fn put_as(&self, path: &str, token: &str) -> Response {
        self.send(Method::PUT, path, Some(token), None).await
    }

    pub async fn json_of(resp: Response) -> Value {
        let status = resp.status();
        let text = resp.text().await.expect("body");
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).expect("JSON")
    }

    /// GET as `token` (or anonymously), asserting 200; the JSON body.
    pub async fn read(&self, path: &str, token: Option<&str>) -> Value {
        Self::json_of(self.send(Method::GET, path, token, None).await).await
    }

    /// A first-party-looking token signed by a key auth never published.
    pub async fn forged_token(&self, subject: &str) -> String {
        let issuer = TestIssuer::start().await;
        let mut claims = TestIssuer::claims(ISSUER, "reelstack", subject);
        claims["role"] = json!("user");
        issuer.mint(&claims)
    }
}

/// The ids of a list's items, in order.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect()
}

/// Every page of a cursor list, following `nextCursor` (`path` has no query yet
/// or ends with `?`/`&`-joinable parameters).
pub async fn all_pages(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    limit: usize,
) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
            None => format!("{path}{sep}limit={limit}"),
        };
        let page = app.read(&url, token).await;
        out.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
    panic!("more than 1000 pages");
}

/// Files in `dir` and its folders (0 when it does not exist).
pub fn files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.expect("directory entry").path())
            .map(|p| if p.is_dir() { files_under(&p) } else { 1 })
            .sum()
    })
}
