//! Verification of Svix-signed webhooks (Clerk sends its events through Svix):
//! `svix-signature` holds one or more `v1,<base64 HMAC-SHA256>` entries over
//! `svix-id.svix-timestamp.body`, keyed with the base64 part of `whsec_…`; the
//! timestamp must be within the tolerance, and the comparison is constant-time.

use actix_web::http::header::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SvixError {
    #[error("svix-id, svix-timestamp and svix-signature are required")]
    MissingHeaders,
    #[error("the webhook timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    BadSignature,
    #[error("the webhook secret is not a whsec_ key")]
    BadSecret,
}

/// Checks a delivery and returns its `svix-id`.
pub fn verify(
    secret: &SecretString,
    headers: &HeaderMap,
    body: &[u8],
    tolerance_secs: i64,
    now: i64,
) -> Result<String, SvixError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (Some(id), Some(timestamp), Some(signatures)) = (
        header("svix-id"),
        header("svix-timestamp"),
        header("svix-signature"),
    ) else {
        return Err(SvixError::MissingHeaders);
    };
    let sent: i64 = timestamp.parse().map_err(|_| SvixError::Stale)?;
    if (now - sent).abs() > tolerance_secs {
        return Err(SvixError::Stale);
    }
    let key_bytes = STANDARD
        .decode(secret.expose_secret().trim().trim_start_matches("whsec_"))
        .map_err(|_| SvixError::BadSecret)?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
    let mut signed = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    signed.extend_from_slice(id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    // Several signatures (key rotation): any valid `v1` one will do.
    let matched = signatures.split_whitespace().any(|entry| {
        entry
            .strip_prefix("v1,")
            .and_then(|sig| STANDARD.decode(sig).ok())
            .is_some_and(|sig| ring::hmac::verify(&key, &signed, &sig).is_ok())
    });
    if matched {
        Ok(id.to_owned())
    } else {
        Err(SvixError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    // Svix's published test vector.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn headers(id: &str, ts: &str, sig: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in [
            ("svix-id", id),
            ("svix-timestamp", ts),
            ("svix-signature", sig),
        ] {
            map.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    fn check(map: &HeaderMap, body: &[u8], now: i64) -> Result<String, SvixError> {
        verify(&SecretString::from(SECRET.to_owned()), map, body, 300, now)
    }

    #[test]
    fn the_published_vector_verifies_among_several_signatures() {
        let ts = TS.to_string();
        assert_eq!(check(&headers(ID, &ts, SIG), BODY, TS), Ok(ID.to_owned()));
        let several = format!("v1,bm90IGl0 {SIG} v2,ignored");
        assert!(check(&headers(ID, &ts, &several), BODY, TS + 299).is_ok());
    }

    #[test]
    fn tampering_staleness_and_missing_headers_are_refused() {
        let ts = TS.to_string();
        assert_eq!(
            check(&headers(ID, &ts, SIG), b"{}", TS),
            Err(SvixError::BadSignature)
        );
        assert_eq!(
            check(&headers("msg_other", &ts, SIG), BODY, TS),
            Err(SvixError::BadSignature)
        );
        assert_eq!(
            check(&headers(ID, &ts, SIG), BODY, TS + 301),
            Err(SvixError::Stale)
        );
        assert_eq!(
            check(&headers(ID, &ts, SIG), BODY, TS - 301),
            Err(SvixError::Stale)
        );
        assert_eq!(
            check(&headers(ID, "soon", SIG), BODY, TS),
            Err(SvixError::Stale)
        );
        assert_eq!(
            check(&HeaderMap::new(), BODY, TS),
            Err(SvixError::MissingHeaders)
        );
        assert_eq!(
            check(&headers(ID, &ts, "v1,!!!"), BODY, TS),
            Err(SvixError::BadSignature)
        );
    }
}
