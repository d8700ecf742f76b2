//! Service-to-service HTTP: timeouts, retries for idempotent calls only, request-id
//! and traceparent propagation, and a cached client-credentials service token.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, RequestBuilder, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::context;
use crate::retry::Backoff;

/// 100 ms, 200 ms, 400 ms … between attempts, with up to 50 % jitter.
const RETRY: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(3200), 0.5);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("upstream timed out")]
    Timeout,
    #[error("upstream unreachable: {0}")]
    Connect(String),
    #[error("upstream answered {status}")]
    Status { status: StatusCode, body: String },
    #[error("upstream answer not understood: {0}")]
    Decode(String),
    #[error("service token unavailable: {0}")]
    Token(String),
}

impl ClientError {
    fn retryable(&self) -> bool {
        match self {
            Self::Timeout | Self::Connect(_) => true,
            Self::Status { status, .. } => matches!(status.as_u16(), 502..=504),
            _ => false,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            Self::Timeout
        } else if err.is_connect() || err.is_request() {
            Self::Connect(err.to_string())
        } else {
            Self::Decode(err.to_string())
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Extra attempts for idempotent requests on connect errors, timeouts and 502-504.
    pub retries: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            retries: 2,
        }
    }
}

/// The credential a client sends as `Authorization: Bearer`.
#[derive(Clone)]
enum Credential {
    /// A service token from auth, fetched by client credentials and cached.
    ServiceToken(Arc<ServiceTokenSource>),
    /// A fixed key (an external API's secret key).
    Static(SecretString),
}

#[derive(Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    retries: u32,
    credential: Option<Credential>,
}

impl ServiceClient {
    pub fn new(options: &ClientOptions) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(concat!("reelstack/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            retries: options.retries,
            credential: None,
        })
    }

    /// Sends a service token from `token_url` (auth's `POST /internal/token`) on every call.
    pub fn with_service_token(
        mut self,
        token_url: String,
        client_id: String,
        secret: SecretString,
    ) -> Self {
        self.credential = Some(Credential::ServiceToken(Arc::new(ServiceTokenSource {
            http: self.http.clone(),
            url: token_url,
            client_id,
            secret,
            cached: tokio::sync::Mutex::new(None),
        })));
        self
    }

    /// Sends a fixed bearer key on every call (an external API's secret key).
    pub fn with_bearer_key(mut self, key: SecretString) -> Self {
        self.credential = Some(Credential::Static(key));
        self
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, ClientError> {
        self.send_json(Method::GET, url, None::<&()>, true).await
    }

    /// POSTs JSON; retried only when the caller says the call is idempotent.
    pub async fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        url: &str,
        body: &B,
        idempotent: bool,
    ) -> Result<T, ClientError> {
        self.send_json(Method::POST, url, Some(body), idempotent)
            .await
    }

    /// Any method with an optional JSON body; retried only when `idempotent`.
    pub async fn send_json<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        idempotent: bool,
    ) -> Result<T, ClientError> {
        let attempts = if idempotent { self.retries + 1 } else { 1 };
        let mut last = ClientError::Connect("no attempt made".to_owned());
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(RETRY.delay(attempt)).await;
            }
            let mut request = self.request(method.clone(), url).await?;
            if let Some(body) = body {
                request = request.json(body);
            }
            match Self::read_json(request).await {
                Ok(value) => return Ok(value),
                Err(err) if err.retryable() => {
                    tracing::debug!(error = %err, attempt, "upstream call failed");
                    last = err;
                }
                Err(err) => return Err(err),
            }
        }
        Err(last)
    }

    /// A request carrying the request id, a child traceparent and the credential.
    pub async fn request(&self, method: Method, url: &str) -> Result<RequestBuilder, ClientError> {
        let mut builder = self.http.request(method, url);
        if let Some(ctx) = context::current() {
            builder = builder
                .header("x-request-id", ctx.request_id)
                .header("traceparent", ctx.trace.child().header_value());
        }
        match &self.credential {
            Some(Credential::ServiceToken(source)) => {
                builder = builder.bearer_auth(source.get().await?);
            }
            Some(Credential::Static(key)) => builder = builder.bearer_auth(key.expose_secret()),
            None => {}
        }
        Ok(builder)
    }

    async fn read_json<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ClientError> {
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(ClientError::Status { status, body });
        }
        response
            .json()
            .await
            .map_err(|e| ClientError::Decode(e.to_string()))
    }
}

struct ServiceTokenSource {
    http: reqwest::Client,
    url: String,
    client_id: String,
    secret: SecretString,
    cached: tokio::sync::Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

impl ServiceTokenSource {
    /// The cached token, fetched again 30 s before it expires.
    async fn get(&self) -> Result<String, ClientError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, expires)) = cached.as_ref() {
            if Instant::now() + Duration::from_secs(30) < *expires {
                return Ok(token.clone());
            }
        }
        let response = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({
                "clientId": self.client_id,
                "clientSecret": self.secret.expose_secret(),
            }))
            .send()
            .await
            .map_err(|e| ClientError::Token(e.to_string()))?;
        if !response.status().is_success() {
            return Err(ClientError::Token(format!(
                "auth answered {}",
                response.status()
            )));
        }
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|e| ClientError::Token(e.to_string()))?;
        let expires = Instant::now() + Duration::from_secs(body.expires_in);
        *cached = Some((body.access_token.clone(), expires));
        Ok(body.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct Seen {
        calls: AtomicUsize,
        token_calls: AtomicUsize,
        last_request_id: std::sync::Mutex<Option<String>>,
        last_auth: std::sync::Mutex<Option<String>>,
    }

    async fn flaky(seen: web::Data<Seen>, req: HttpRequest) -> HttpResponse {
        let n = seen.calls.fetch_add(1, Ordering::SeqCst);
        *seen.last_request_id.lock().unwrap() = req
            .headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_owned());
        *seen.last_auth.lock().unwrap() = req
            .headers()
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned());
        if n < 2 {
            HttpResponse::ServiceUnavailable().finish()
        } else {
            HttpResponse::Ok().json(serde_json::json!({"ok": true}))
        }
    }

    async fn token(seen: web::Data<Seen>) -> HttpResponse {
        seen.token_calls.fetch_add(1, Ordering::SeqCst);
        HttpResponse::Ok().json(serde_json::json!({"accessToken": "svc-token", "expiresIn": 300}))
    }

    async fn start() -> (String, web::Data<Seen>) {
        let seen = web::Data::new(Seen::default());
        let data = seen.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/flaky", web::get().to(flaky))
                .route("/flaky", web::post().to(flaky))
                .route("/token", web::post().to(token))
        })
        .listen(listener)
        .unwrap()
        .workers(1)
        .run();
        tokio::spawn(server);
        (format!("http://127.0.0.1:{port}"), seen)
    }

    #[actix_web::test]
    async fn idempotent_calls_retry_and_carry_context_and_token() {
        let (base, seen) = start().await;
        let client = ServiceClient::new(&ClientOptions::default())
            .unwrap()
            .with_service_token(
                format!("{base}/token"),
                "svc".into(),
                SecretString::from("s"),
            );
        let ctx = context::RequestContext {
            request_id: "req-42".into(),
            trace: context::TraceParent::new_root(),
        };
        let value: serde_json::Value =
            context::scope(ctx, client.get_json(&format!("{base}/flaky")))
                .await
                .unwrap();
        assert_eq!(value["ok"], true);
        assert_eq!(seen.calls.load(Ordering::SeqCst), 3);
        assert_eq!(
            seen.last_request_id.lock().unwrap().as_deref(),
            Some("req-42")
        );
        assert_eq!(
            seen.last_auth.lock().unwrap().as_deref(),
            Some("Bearer svc-token")
        );
        // The token was fetched once and cached for the retries.
        assert_eq!(seen.token_calls.load(Ordering::SeqCst), 1);
    }

    #[actix_web::test]
    async fn non_idempotent_calls_are_not_retried() {
        let (base, seen) = start().await;
        let client = ServiceClient::new(&ClientOptions::default()).unwrap();
        let result: Result<serde_json::Value, _> = client
            .post_json(&format!("{base}/flaky"), &serde_json::json!({}), false)
            .await;
        assert!(matches!(result, Err(ClientError::Status { status, .. }) if status == 503));
        assert_eq!(seen.calls.load(Ordering::SeqCst), 1);
    }
}
