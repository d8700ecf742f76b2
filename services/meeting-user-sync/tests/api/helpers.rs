use std::sync::Arc;

use meeting_user_sync::MeetingUserSync;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use testkit::clerk_sim::{ClerkSim, ClerkUser, SignedWebhook};
use testkit::{Client, Env, TestDb, TestIssuer};

/// The first-party issuer, shared by the real auth instance and this service.
pub const ISSUER: &str = testkit::ISSUER;
pub const SERVICE_CLIENT: (&str, &str) = ("meetings", "meetings-test-secret");
pub const PASSWORD: &str = "correct horse battery staple";

/// A real auth service on loopback, for first-party users and service tokens.
pub struct Auth {
    pub api: Client,
    db_url: String,
    _db: TestDb,
}

impl Auth {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With extra settings (`AUTH_DIRECTORY_URL`, outbox timings...).
    pub async fn start_with(overrides: &[(&str, &str)]) -> Self {
        let db = TestDb::of::<auth::Auth>().expect("auth db");
        let env = Env::new(&db.url)
            .with(&[
                ("AUTH_RL_SIGNUP_PER_IP_PER_HOUR", "0"),
                ("AUTH_HASH_CONCURRENCY", "2"),
            ])
            .set(
                "AUTH_INTERNAL_CLIENTS",
                format!("{}:{}", SERVICE_CLIENT.0, SERVICE_CLIENT.1),
            )
            .set("MAIL_DIR", testkit::mail::mail_dir().display().to_string())
            .with(overrides);
        let spawned = testkit::spawn::<auth::Auth>(env).await;
        Self {
            api: spawned.client,
            db_url: db.url.clone(),
            _db: db,
        }
    }

    /// Ends the session of `token` (auth publishes the revocation).
    pub async fn logout(&self, token: &str) {
        let resp = self
            .api
            .send(Method::POST, "/api/auth/logout", Some(token), None)
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }

    /// Outbox events not delivered yet.
    pub fn pending_events(&self) -> i64 {
        use diesel::Connection;
        let mut conn = diesel::PgConnection::establish(&self.db_url).expect("auth db");
        auth::db::outbox::pending_count(&mut conn).expect("count")
    }

    /// Signs up a new account; returns (user id, access token).
    pub async fn signup(&self, name: &str) -> (String, String) {
        let email = format!("u-{}@example.com", uuid::Uuid::now_v7().simple());
        let resp = self
            .api
            .post(
                "/api/auth/signup",
                None,
                &json!({"name": name, "email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let body: Value = resp.json().await.expect("signup body");
        (
            body["user"]["id"].as_str().expect("id").to_owned(),
            body["accessToken"].as_str().expect("token").to_owned(),
        )
    }

    /// A service token (client credentials), as other services hold.
    pub async fn service_token(&self) -> String {
        let body: Value = self
            .api
            .internal()
            .post(
                "/internal/token",
                None,
                &json!({"clientId": SERVICE_CLIENT.0, "clientSecret": SERVICE_CLIENT.1}),
            )
            .await
            .json()
            .await
            .expect("token body");
        body["accessToken"].as_str().expect("token").to_owned()
    }
}

pub struct Shared {
    pub clerk: ClerkSim,
    pub auth: Auth,
    pub db_url: String,
    _db: Option<TestDb>,
}

pub struct TestApp {
    pub api: Client,
    pub shared: Arc<Shared>,
}

testkit::deref_to_client!(TestApp);

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_with_auth(Auth::start().await, overrides).await
}

/// An app that trusts and syncs from `auth` (started with settings of the test's own).
pub async fn spawn_app_with_auth(auth: Auth, overrides: &[(&str, &str)]) -> TestApp {
    testkit::init_tracing();
    let db = TestDb::of::<MeetingUserSync>().expect("test database");
    let url = db.url.clone();
    spawn_on(auth, url, Some(db), overrides).await
}

/// An app on a database of the test's own (a PostgreSQL it restarts).
pub async fn spawn_app_on_database(url: &str, overrides: &[(&str, &str)]) -> TestApp {
    spawn_on(Auth::start().await, url.to_owned(), None, overrides).await
}

async fn spawn_on(
    auth: Auth,
    db_url: String,
    db: Option<TestDb>,
    overrides: &[(&str, &str)],
) -> TestApp {
    let shared = Arc::new(Shared {
        clerk: ClerkSim::start().await.expect("clerk-sim starts"),
        auth,
        db_url,
        _db: db,
    });
    start(shared, testkit::owned(overrides)).await
}

async fn start(shared: Arc<Shared>, overrides: Vec<(String, String)>) -> TestApp {
    let clerk = &shared.clerk;
    let auth = &shared.auth.api;
    let env = Env::new(&shared.db_url)
        .with(&[("WORKERS", "2"), ("DB_POOL_MAX_SIZE", "8")])
        .set("REDIS_URL", testkit::redis_url())
        .set("AUTH_JWKS_URL", auth.url("/.well-known/jwks.json"))
        .set("AUTH_INTERNAL_URL", auth.internal().address)
        .set("SERVICE_CLIENT_ID", SERVICE_CLIENT.0)
        .set("SERVICE_CLIENT_SECRET", SERVICE_CLIENT.1)
        .set("CLERK_ISSUER", clerk.issuer())
        .set("CLERK_JWKS_URL", clerk.jwks_url.clone())
        .set("CLERK_AUTHORIZED_PARTIES", clerk.authorized_party.clone())
        .set("CLERK_API_URL", clerk.api_url.clone())
        .set("CLERK_SECRET_KEY", clerk.secret_key.clone())
        .set("CLERK_WEBHOOK_SECRET", clerk.webhook_secret.clone())
        .with(&overrides);
    let spawned = testkit::spawn::<MeetingUserSync>(env).await;
    TestApp {
        api: spawned.client,
        shared,
    }
}

impl TestApp {
    pub fn clerk(&self) -> &ClerkSim {
        &self.shared.clerk
    }

    pub fn auth(&self) -> &Auth {
        &self.shared.auth
    }

    pub async fn sync(&self, token: &str) -> Response {
        self.request(Method::POST, "/api/user/sync", Some(token))
            .send()
            .await
            .expect("request sent")
    }

    /// A Clerk user and a session token of theirs.
    pub fn clerk_user(&self, first: &str, last: &str) -> (ClerkUser, String) {
        let email = format!(
            "{}-{}@clerk.example",
            first.to_lowercase(),
            uuid::Uuid::now_v7().simple()
        );
        let user = self.clerk().create_user(first, last, &email);
        // Ten minutes (Clerk's last one): no `token.expiring` frame in a test's way.
        let exp = chrono::Utc::now().timestamp() + 600;
        let token = self
            .clerk()
            .session_token(&user.id, &json!({ "exp": exp }))
            .expect("session token");
        (user, token)
    }

    /// Posts a webhook with its Svix headers (as given, so tests can tamper).
    pub async fn deliver(&self, hook: &SignedWebhook) -> Response {
        let mut req = self
            .request(Method::POST, "/api/webhooks/clerk", None)
            .header("content-type", "application/json")
            .body(hook.body.clone());
        for (name, value) in hook.headers() {
            req = req.header(name, value);
        }
        req.send().await.expect("request sent")
    }

    /// A first-party-looking token signed by a key auth never published.
    pub async fn forged_token(&self) -> String {
        let issuer = TestIssuer::start().await;
        let mut claims = TestIssuer::claims(ISSUER, "reelstack", "someone");
        claims["role"] = json!("user");
        issuer.mint(&claims)
    }
}

/// A loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl TestApp {
    /// Another replica: same database, fakes and Redis.
    pub async fn spawn_replica(&self) -> TestApp {
        start(self.shared.clone(), Vec::new()).await
    }

    fn live_url(&self, meeting: &str) -> String {
        format!(
            "{}/api/meetings/{meeting}/live",
            self.api.address.replacen("http://", "ws://", 1)
        )
    }

    /// Opens the meeting's live socket with the token in the `Authorization`
    /// header, and waits for its `ready` frame.
    pub async fn connect_live(&self, meeting: &str, token: &str) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = self
            .live_url(meeting)
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("live socket connects");
        let ready = next_frame(&mut socket).await;
        assert_eq!(ready["type"], "ready", "{ready}");
        socket
    }

    /// Tries to open the live socket with the token carried as `carrier` says;
    /// the HTTP status when the upgrade is refused, and the subprotocol the server
    /// selected when it is accepted.
    pub async fn try_connect_live(
        &self,
        meeting: &str,
        token: Option<&str>,
        carrier: TokenIn,
    ) -> (StatusCode, Option<String>) {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::Error;
        let mut url = self.live_url(meeting);
        if let (TokenIn::Query, Some(token)) = (carrier, token) {
            url.push_str(&format!("?access_token={token}"));
        }
        let mut request = url.into_client_request().expect("request");
        match (carrier, token) {
            (TokenIn::Header, Some(token)) => {
                request.headers_mut().insert(
                    "authorization",
                    format!("Bearer {token}").parse().expect("header"),
                );
            }
            (TokenIn::Protocol, Some(token)) => {
                request.headers_mut().insert(
                    "sec-websocket-protocol",
                    format!("bearer, {token}").parse().expect("header"),
                );
            }
            _ => {}
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((_, response)) => (
                StatusCode::SWITCHING_PROTOCOLS,
                response
                    .headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
            ),
            Err(Error::Http(response)) => (
                StatusCode::from_u16(response.status().as_u16()).expect("status"),
                None,
            ),
            Err(other) => panic!("unexpected error: {other}"),
        }
    }

    /// The status only, token in the `Authorization` header.
    pub async fn live_status(&self, meeting: &str, token: Option<&str>) -> StatusCode {
        self.try_connect_live(meeting, token, TokenIn::Header)
            .await
            .0
    }
}

/// How a test carries the access token to the live route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenIn {
    Header,
    /// `Sec-WebSocket-Protocol: bearer, <token>`.
    Protocol,
    /// `?access_token=` (refused: tokens never travel in URLs).
    Query,
}

/// The next JSON frame from the server (pings skipped), within 5 s.
pub async fn next_frame(socket: &mut Socket) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = std::time::Duration::from_secs(5);
    loop {
        let frame = tokio::time::timeout(deadline, socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("frame readable");
        match frame {
            Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON frame"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The server's close frame (code, reason), within 5 s.
pub async fn next_close(socket: &mut Socket) -> (u16, String) {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("frame readable");
        match frame {
            Message::Close(Some(close)) => {
                return (u16::from(close.code), close.reason.to_string())
            }
            Message::Close(None) => return (1005, String::new()),
            _ => continue,
        }
    }
}

/// True when no text frame arrives within `wait`.
pub async fn stays_quiet(socket: &mut Socket, wait: std::time::Duration) -> bool {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Err(_) => return true,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(_) => return false,
        }
    }
}

pub async fn send_frame(socket: &mut Socket, frame: Value) {
    use futures_util::SinkExt;
    socket
        .send(tokio_tungstenite::tungstenite::Message::Text(
            frame.to_string().into(),
        ))
        .await
        .expect("frame sent");
}

pub use testkit::api::{assert_error, error_fields};
