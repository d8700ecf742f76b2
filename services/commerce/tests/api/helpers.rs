use commerce::Commerce;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use testkit::{Client, Env, TestDb, TestIssuer};

pub use testkit::api::{assert_error, error_fields};

pub const ISSUER: &str = testkit::ISSUER;

pub struct TestApp {
    pub api: Client,
    pub issuer: TestIssuer,
    pub db: TestDb,
    /// Where the app keeps images; removed with it.
    pub storage_dir: std::path::PathBuf,
    /// The settings of its replicas (the same database, issuer, storage and
    /// Redis channels).
    settings: Vec<(String, String)>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.storage_dir);
    }
}

testkit::deref_to_client!(TestApp);

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A fresh app on a database of its own; `overrides` are its settings.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    testkit::init_tracing();
    let db = TestDb::of::<Commerce>().expect("test database");
    let issuer = TestIssuer::start().await;
    let storage_dir = std::env::temp_dir().join(format!("commerce-{}", uuid::Uuid::now_v7()));
    let mut settings = testkit::owned(&[
        ("REDIS_URL", &testkit::redis_url()),
        ("STORAGE_DIR", &storage_dir.display().to_string()),
        ("AUTH_JWKS_URL", &issuer.jwks_url),
        // Flags follow orders' stock changes within 20 ms (1 s by default):
        // see TestApp::stock_flags_settled.
        ("STOCK_FLAG_REFRESH_MS", "20"),
        // Channels of its own: other tests' apps share the Redis.
        (
            "COMMERCE_REDIS_PREFIX",
            &format!("commerce-test-{}", uuid::Uuid::now_v7()),
        ),
    ]);
    settings.extend(testkit::owned(overrides));
    let api = start(&db.url, &settings).await;
    TestApp {
        api,
        issuer,
        db,
        storage_dir,
        settings,
    }
}

async fn start(db_url: &str, settings: &[(String, String)]) -> Client {
    let pairs: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    testkit::spawn::<Commerce>(Env::new(db_url).with(&pairs))
        .await
        .client
}

impl TestApp {
    /// Another replica of the app.
    pub async fn replica(&self) -> Client {
        start(&self.db.url, &self.settings).await
    }

    /// Another replica with some settings of its own.
    pub async fn replica_with(&self, overrides: &[(&str, &str)]) -> Client {
        let mut settings = self.settings.clone();
        settings.extend(testkit::owned(overrides));
        start(&self.db.url, &settings).await
    }

    /// Waits until `replicas` replicas follow the catalog channel: a replica
    /// empties its product cache when it subscribes, which would otherwise
    /// race with what a test reads first.
    pub async fn catalog_followed_by(&self, replicas: usize) {
        let prefix = self
            .settings
            .iter()
            .find(|(k, _)| k == "COMMERCE_REDIS_PREFIX")
            .map(|(_, v)| v.clone())
            .expect("test apps have a Redis prefix");
        let channel = format!("{prefix}:catalog-changed");
        let mut conn = redis::Client::open(testkit::redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        for _ in 0..250 {
            let (_, followers): (String, usize) = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(&channel)
                .query_async(&mut conn)
                .await
                .unwrap();
            if followers >= replicas {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{replicas} replica(s) never subscribed to {channel}");
    }

    fn token(&self, role: &str) -> String {
        let subject = uuid::Uuid::now_v7().to_string();
        let mut claims = TestIssuer::claims(ISSUER, "reelstack", &subject);
        claims["role"] = json!(role);
        claims["sid"] = json!(uuid::Uuid::now_v7().to_string());
        self.issuer.mint(&claims)
    }

    /// A token of a new admin.
    pub fn admin(&self) -> String {
        self.token("admin")
    }

    /// A token of a new customer (role `user`).
    pub fn customer(&self) -> String {
        self.token("user")
    }

    /// A first-party-looking token signed by a key the issuer never published.
    pub fn forged(&self) -> String {
        let mut claims = TestIssuer::claims(ISSUER, "reelstack", "someone");
        claims["role"] = json!("admin");
        let stranger = testkit::issuer::TestKey::generate("test-key-1");
        self.issuer.mint_with(&stranger, Some("at+jwt"), &claims)
    }

    /// A request with a JSON body and an `If-Match`.
    pub async fn send_if(
        &self,
        method: Method,
        path: &str,
        token: &str,
        if_match: &str,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self
            .request(method, path, Some(token))
            .header("if-match", if_match);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("request sent")
    }

    /// Creates a category as an admin; its JSON.
    pub async fn category(&self, body: Value) -> Value {
        let resp = self
            .post("/api/categories", Some(&self.admin()), &body)
            .await;
        json_of(resp, StatusCode::CREATED).await
    }

    /// Creates a product as an admin; its JSON and ETag.
    pub async fn product(&self, body: Value) -> (Value, String) {
        let resp = self.post("/api/products", Some(&self.admin()), &body).await;
        let tag = etag(&resp);
        (json_of(resp, StatusCode::CREATED).await, tag)
    }

    /// Runs SQL on the app's database behind its back (what no route does yet:
    /// reservations), returning the rows changed.
    pub fn sql(&self, statement: &str) -> Result<usize, diesel::result::Error> {
        use diesel::{Connection, RunQueryDsl};
        let mut conn = diesel::PgConnection::establish(&self.db.url).expect("test database");
        diesel::sql_query(statement).execute(&mut conn)
    }

    /// Waits until the app has set the in-stock flag of every product whose
    /// stock changed without its product's lock (orders, or SQL here): its queue
    /// is empty, so the round that took the last change has committed.
    pub async fn stock_flags_settled(&self) {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = diesel::PgConnection::establish(&self.db.url).expect("test database");
        for _ in 0..250 {
            let queued = diesel::sql_query("SELECT count(*) AS n FROM product_stock_changes")
                .get_result::<Count>(&mut conn)
                .expect("the queue of stock changes")
                .n;
            if queued == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the in-stock flags were never set");
    }

    /// GET as `token` (or anonymously), asserting 200; the JSON body.
    pub async fn read(&self, path: &str, token: Option<&str>) -> Value {
        json_of(
            self.send(Method::GET, path, token, None).await,
            StatusCode::OK,
        )
        .await
    }
}

/// The JSON body of an answer with `status`.
pub async fn json_of(resp: Response, status: StatusCode) -> Value {
    let actual = resp.status();
    let text = resp.text().await.expect("body");
    assert_eq!(actual, status, "body: {text}");
    serde_json::from_str(&text).expect("JSON")
}

pub fn etag(resp: &Response) -> String {
    resp.headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("an ETag")
        .to_owned()
}

/// A shirt in two sizes and two colours, three of the four combinations.
pub fn shirt(title: &str) -> Value {
    json!({
        "title": title,
        "status": "active",
        "attributes": {"brand": "Acme", "organic": true, "weightGrams": 180, "care": ["cold wash"]},
        "options": [
            {"name": "Size", "values": ["S", "M"]},
            {"name": "Color", "values": ["Red", "Blue"]}
        ],
        "variants": [
            {"sku": format!("{title}-S-RED").replace(' ', "-"), "optionValues": {"Size": "S", "Color": "Red"}, "priceMinor": 1999},
            {"sku": format!("{title}-M-RED").replace(' ', "-"), "optionValues": {"Size": "M", "Color": "Red"}, "priceMinor": 1999, "compareAtPriceMinor": 2499},
            {"sku": format!("{title}-M-BLUE").replace(' ', "-"), "title": "Medium blue", "optionValues": {"Size": "M", "Color": "Blue"}, "priceMinor": 2199}
        ]
    })
}

/// The `slug`s of a list's items, in order.
pub fn slugs(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|v| v["slug"].as_str().expect("slug").to_owned())
        .collect()
}
