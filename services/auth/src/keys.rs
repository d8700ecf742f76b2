//! Ed25519 signing keys: kept in the auth database so every replica signs with
//! the same key, generated on first start in local mode, rotated by `auth keys
//! rotate`. The newest unretired key signs; all published keys are in the JWKS.

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::db::Db;
use common::tokens::AccessClaims;
use common::ApiError;
use diesel::PgConnection;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::db;

struct Signer {
    kid: String,
    key: EncodingKey,
}

pub struct KeyStore {
    db: Db,
    signer: RwLock<Option<Arc<Signer>>>,
    jwks: Arc<RwLock<JwkSet>>,
}

impl KeyStore {
    /// Loads the published keys; with `generate`, creates the first key when none exists.
    pub async fn load(db: Db, generate: bool, access_ttl_secs: i64) -> anyhow::Result<Arc<Self>> {
        let store = Arc::new(Self {
            db,
            signer: RwLock::new(None),
            jwks: Arc::new(RwLock::new(JwkSet { keys: Vec::new() })),
        });
        store.reload().await?;
        if store.current().is_none() {
            if !generate {
                anyhow::bail!(
                    "no signing key: run `auth keys rotate` once (or set AUTH_GENERATE_KEYS=true)"
                );
            }
            store
                .db
                .run(move |conn| rotate(conn, access_ttl_secs).map(|_| ()))
                .await
                .map_err(|e| anyhow::anyhow!("cannot generate a signing key: {e}"))?;
            store.reload().await?;
            tracing::info!("generated the first signing key");
        }
        Ok(store)
    }

    /// Re-reads the keys, so a rotation made elsewhere is picked up.
    pub async fn reload(&self) -> anyhow::Result<()> {
        let rows = self
            .db
            .run(db::keys::published)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read signing keys: {e}"))?;
        let mut keys = Vec::new();
        let mut signer = None;
        for row in &rows {
            keys.push(serde_json::from_value(jwk_json(&row.kid, &row.public_x))?);
            if signer.is_none() && row.retired_at.is_none() {
                signer = Some(Arc::new(Signer {
                    kid: row.kid.clone(),
                    key: EncodingKey::from_ed_der(&row.private_der),
                }));
            }
        }
        if let Ok(mut guard) = self.jwks.write() {
            *guard = JwkSet { keys };
        }
        if let Ok(mut guard) = self.signer.write() {
            *guard = signer;
        }
        Ok(())
    }

    fn current(&self) -> Option<Arc<Signer>> {
        self.signer.read().ok().and_then(|s| s.clone())
    }

    /// The key set shared with this process's token verifier.
    pub fn shared_jwks(&self) -> Arc<RwLock<JwkSet>> {
        self.jwks.clone()
    }

    pub fn jwks_document(&self) -> serde_json::Value {
        let set = self
            .jwks
            .read()
            .map(|s| s.clone())
            .unwrap_or(JwkSet { keys: Vec::new() });
        serde_json::to_value(set).unwrap_or_else(|_| json!({ "keys": [] }))
    }

    pub fn sign(&self, claims: &AccessClaims) -> Result<String, ApiError> {
        let signer = self
            .current()
            .ok_or_else(|| ApiError::internal("no signing key loaded"))?;
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(common::tokens::ACCESS_TOKEN_TYP.to_owned());
        header.kid = Some(signer.kid.clone());
        jsonwebtoken::encode(&header, claims, &signer.key)
            .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("signing failed")))
    }
}

fn jwk_json(kid: &str, x: &str) -> serde_json::Value {
    json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig" })
}

/// Generates a key, makes it the signing key and retires the previous ones; they
/// stay published for one access-token lifetime plus a minute.
pub fn rotate(conn: &mut PgConnection, access_ttl_secs: i64) -> Result<String, ApiError> {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| ApiError::internal("key generation failed"))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| ApiError::internal("generated key unusable"))?;
    let public = pair.public_key().as_ref();
    let x = URL_SAFE_NO_PAD.encode(public);
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(public)[..12]);
    let publish_until = chrono::Utc::now() + chrono::Duration::seconds(access_ttl_secs + 60);
    db::keys::insert_and_retire_others(conn, &kid, pkcs8.as_ref(), &x, publish_until)?;
    Ok(kid)
}
