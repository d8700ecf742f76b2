#![allow(clippy::expect_used, reason = "test helpers fail loudly")]
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::{json, Value};

/// An Ed25519 key of the test issuer.
#[derive(Clone)]
pub struct TestKey {
    pub kid: String,
    pkcs8: Vec<u8>,
    /// The raw public key, base64url (the JWK `x`).
    pub x: String,
}

impl TestKey {
    pub fn generate(kid: &str) -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .expect("key generation")
            .as_ref()
            .to_vec();
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).expect("generated key");
        Self {
            kid: kid.to_owned(),
            x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            pkcs8,
        }
    }

    /// The same key material under another `kid`.
    pub fn renamed(&self, kid: &str) -> Self {
        Self {
            kid: kid.to_owned(),
            ..self.clone()
        }
    }

    pub fn public_bytes(&self) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(&self.x).expect("x is base64url")
    }

    fn jwk(&self) -> Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "alg": "EdDSA", "use": "sig" })
    }
}

/// A token issuer for tests: serves its JWKS at `{base}/.well-known/jwks.json` on
/// loopback and signs whatever header and claims a test asks for.
pub struct TestIssuer {
    pub base_url: String,
    pub jwks_url: String,
    published: Arc<Mutex<Vec<TestKey>>>,
    fetches: Arc<AtomicUsize>,
    pub key: TestKey,
}

impl TestIssuer {
    pub async fn start() -> Self {
        let key = TestKey::generate("test-key-1");
        let published = Arc::new(Mutex::new(vec![key.clone()]));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (p, f) = (published.clone(), fetches.clone());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = HttpServer::new(move || {
            let (p, f) = (p.clone(), f.clone());
            App::new().route(
                "/.well-known/jwks.json",
                web::get().to(move || {
                    let (p, f) = (p.clone(), f.clone());
                    async move {
                        f.fetch_add(1, Ordering::SeqCst);
                        let keys: Vec<Value> =
                            p.lock().expect("lock").iter().map(TestKey::jwk).collect();
                        HttpResponse::Ok().json(json!({ "keys": keys }))
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        let base_url = format!("http://127.0.0.1:{port}");
        Self {
            jwks_url: format!("{base_url}/.well-known/jwks.json"),
            base_url,
            published,
            fetches,
            key,
        }
    }

    /// How many times the JWKS was served.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    /// Publishes another key (as a rotation would) and returns it.
    pub fn publish_new_key(&self, kid: &str) -> TestKey {
        let key = TestKey::generate(kid);
        self.published.lock().expect("lock").push(key.clone());
        key
    }

    /// An EdDSA token with `typ: at+jwt` signed by the main key.
    pub fn mint(&self, claims: &Value) -> String {
        self.mint_with(&self.key, Some("at+jwt"), claims)
    }

    pub fn mint_with(&self, key: &TestKey, typ: Option<&str>, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = typ.map(str::to_owned);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&key.pkcs8)).expect("sign")
    }

    /// Claims valid for 5 minutes from now, for `iss`, `aud` and `sub`.
    pub fn claims(iss: &str, aud: &str, sub: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({ "iss": iss, "aud": aud, "sub": sub, "iat": now, "nbf": now, "exp": now + 300, "jti": uuid::Uuid::now_v7().to_string() })
    }
}

/// Builds a JWT from raw parts without any library checks, for hostile tokens
/// (`alg: none`, HS256 keyed with a public key).
pub fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// HMAC-SHA256 over `header.claims` keyed with `key`, as an attacker would sign an
/// HS256 token with a public key it downloaded.
pub fn hs256_token(header: &Value, claims: &Value, key: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        signing_input.as_bytes(),
    );
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}
