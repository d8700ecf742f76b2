#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

//! The token matrix: every way a token can be wrong, against a real JWKS server.

use std::time::Duration;

use common::tokens::{IssuerConfig, JwksSource, RevocationList, Role, TokenError, TokenVerifier};
use jsonwebtoken::Algorithm;
use serde_json::{json, Value};
use testkit::issuer::{hs256_token, raw_token};
use testkit::TestIssuer;

const ISS: &str = "https://auth.reelstack.test";
const AUD: &str = "reelstack";
const CLERK_ISS: &str = "https://clerk.example.test";

struct Fixture {
    issuer: TestIssuer,
    clerk: TestIssuer,
    verifier: TokenVerifier,
    revocations: RevocationList,
}

async fn fixture() -> Fixture {
    fixture_with_leeway(30).await
}

async fn fixture_with_leeway(leeway: u64) -> Fixture {
    let issuer = TestIssuer::start().await;
    let clerk = TestIssuer::start().await;
    let revocations = RevocationList::new();
    let verifier = TokenVerifier::new(
        vec![
            IssuerConfig {
                name: "reelstack".into(),
                issuer: ISS.into(),
                jwks: JwksSource::Http(issuer.jwks_url.clone()),
                audience: Some(AUD.into()),
                algorithms: vec![Algorithm::EdDSA],
                required_typ: Some("at+jwt".into()),
                authorized_parties: None,
                first_party: true,
            },
            IssuerConfig {
                name: "clerk".into(),
                issuer: CLERK_ISS.into(),
                jwks: JwksSource::Http(clerk.jwks_url.clone()),
                audience: None,
                algorithms: vec![Algorithm::EdDSA],
                required_typ: None,
                authorized_parties: Some(vec!["https://app.example.test".into()]),
                first_party: false,
            },
        ],
        leeway,
        Duration::from_secs(60),
        revocations.clone(),
    );
    Fixture {
        issuer,
        clerk,
        verifier,
        revocations,
    }
}

fn claims() -> Value {
    let mut c = TestIssuer::claims(ISS, AUD, "0190a1b2-0000-7000-8000-000000000001");
    c["sid"] = json!("0190a1b2-0000-7000-8000-0000000000aa");
    c["role"] = json!("user");
    c
}

fn with(mut c: Value, key: &str, value: Value) -> Value {
    c[key] = value;
    c
}

#[tokio::test]
async fn a_valid_token_gives_the_caller() {
    let f = fixture().await;
    let user = f
        .verifier
        .verify(&f.issuer.mint(&with(claims(), "role", json!("admin"))))
        .await
        .unwrap();
    assert_eq!(user.subject, "0190a1b2-0000-7000-8000-000000000001");
    assert_eq!(user.issuer, "reelstack");
    assert_eq!(user.role, Role::Admin);
    assert_eq!(
        user.session_id.as_deref(),
        Some("0190a1b2-0000-7000-8000-0000000000aa")
    );
    // The key set was fetched once and is now cached.
    f.verifier.verify(&f.issuer.mint(&claims())).await.unwrap();
    assert_eq!(f.issuer.fetches(), 1);
}

#[tokio::test]
async fn expired_tokens_are_refused_past_the_leeway() {
    let f = fixture().await;
    let now = chrono::Utc::now().timestamp();
    let token = f.issuer.mint(&with(claims(), "exp", json!(now - 120)));
    assert_eq!(f.verifier.verify(&token).await, Err(TokenError::Expired));
    // Within the 30 s leeway a just-expired token still passes (clock skew).
    let token = f.issuer.mint(&with(claims(), "exp", json!(now - 5)));
    assert!(f.verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn tokens_not_yet_valid_are_refused() {
    let f = fixture().await;
    let now = chrono::Utc::now().timestamp();
    let token = f.issuer.mint(&with(claims(), "nbf", json!(now + 300)));
    assert_eq!(
        f.verifier.verify(&token).await,
        Err(TokenError::NotYetValid)
    );
}

#[tokio::test]
async fn wrong_issuer_is_refused() {
    let f = fixture().await;
    let token = f
        .issuer
        .mint(&with(claims(), "iss", json!("https://evil.example")));
    assert_eq!(
        f.verifier.verify(&token).await,
        Err(TokenError::UntrustedIssuer)
    );
}

#[tokio::test]
async fn wrong_audience_is_refused() {
    let f = fixture().await;
    let token = f.issuer.mint(&with(claims(), "aud", json!("another-api")));
    assert_eq!(
        f.verifier.verify(&token).await,
        Err(TokenError::InvalidClaims)
    );
}

#[tokio::test]
async fn alg_none_is_refused() {
    let f = fixture().await;
    let token = raw_token(
        &json!({"alg": "none", "typ": "at+jwt", "kid": "test-key-1"}),
        &claims(),
        b"",
    );
    assert_eq!(f.verifier.verify(&token).await, Err(TokenError::Malformed));
}

#[tokio::test]
async fn hs256_keyed_with_the_public_key_is_refused() {
    let f = fixture().await;
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "test-key-1"});
    for key in [
        f.issuer.key.public_bytes(),
        f.issuer.key.x.as_bytes().to_vec(),
    ] {
        let token = hs256_token(&header, &claims(), &key);
        assert_eq!(
            f.verifier.verify(&token).await,
            Err(TokenError::AlgorithmNotAllowed)
        );
    }
}

#[tokio::test]
async fn an_unknown_kid_triggers_exactly_one_refetch() {
    let f = fixture().await;
    f.verifier.verify(&f.issuer.mint(&claims())).await.unwrap();
    assert_eq!(f.issuer.fetches(), 1);
    let rotated = f.issuer.publish_new_key("test-key-2");
    let token = f.issuer.mint_with(&rotated, Some("at+jwt"), &claims());
    f.verifier.verify(&token).await.unwrap();
    assert_eq!(f.issuer.fetches(), 2);
    // A key that is published nowhere does not make the verifier hammer the issuer.
    let stranger = testkit::issuer::TestKey::generate("never-published");
    let forged = f.issuer.mint_with(&stranger, Some("at+jwt"), &claims());
    assert_eq!(
        f.verifier.verify(&forged).await,
        Err(TokenError::UnknownKey)
    );
    assert_eq!(
        f.verifier.verify(&forged).await,
        Err(TokenError::UnknownKey)
    );
    assert_eq!(f.issuer.fetches(), 2);
}

#[tokio::test]
async fn a_flipped_signature_bit_is_refused() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let f = fixture().await;
    let token = f.issuer.mint(&claims());
    let (signing_input, sig) = token.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(sig).unwrap();
    bytes[10] ^= 0x01;
    let tampered = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(bytes));
    assert_eq!(
        f.verifier.verify(&tampered).await,
        Err(TokenError::InvalidSignature)
    );
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let f = fixture().await;
    let token = f.issuer.mint(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let elevated = URL_SAFE_NO_PAD.encode(with(claims(), "role", json!("admin")).to_string());
    let tampered = format!("{}.{}.{}", parts[0], elevated, parts[2]);
    assert_eq!(
        f.verifier.verify(&tampered).await,
        Err(TokenError::InvalidSignature)
    );
}

#[tokio::test]
async fn wrong_typ_is_refused() {
    let f = fixture().await;
    for typ in [Some("JWT"), None, Some("id+jwt")] {
        let token = f.issuer.mint_with(&f.issuer.key, typ, &claims());
        assert_eq!(
            f.verifier.verify(&token).await,
            Err(TokenError::WrongType),
            "{typ:?}"
        );
    }
    let token = f
        .issuer
        .mint_with(&f.issuer.key, Some("application/at+jwt"), &claims());
    assert!(f.verifier.verify(&token).await.is_ok());
}

#[tokio::test]
async fn clerk_tokens_need_an_authorized_azp_and_never_carry_roles() {
    let f = fixture().await;
    let base = with(
        with(
            TestIssuer::claims(CLERK_ISS, "unused", "user_2abc"),
            "sid",
            json!("sess_1"),
        ),
        "role",
        json!("admin"),
    );
    let ok = f.clerk.mint_with(
        &f.clerk.key,
        Some("JWT"),
        &with(base.clone(), "azp", json!("https://app.example.test")),
    );
    let user = f.verifier.verify(&ok).await.unwrap();
    assert_eq!(user.issuer, "clerk");
    assert_eq!(user.subject, "user_2abc");
    assert_eq!(
        user.role,
        Role::User,
        "an external issuer cannot grant roles"
    );
    let bad = f.clerk.mint_with(
        &f.clerk.key,
        Some("JWT"),
        &with(base, "azp", json!("https://evil.example")),
    );
    assert_eq!(
        f.verifier.verify(&bad).await,
        Err(TokenError::UnauthorizedParty)
    );
}

#[tokio::test]
async fn a_token_signed_by_one_issuer_cannot_claim_another() {
    let f = fixture().await;
    // Signed with Clerk's key but claiming the first-party issuer.
    let token = f.clerk.mint_with(
        &f.clerk.key.renamed("test-key-1"),
        Some("at+jwt"),
        &claims(),
    );
    assert_eq!(
        f.verifier.verify(&token).await,
        Err(TokenError::InvalidSignature)
    );
}

#[tokio::test]
async fn a_revoked_session_is_refused() {
    let f = fixture().await;
    let token = f.issuer.mint(&claims());
    f.verifier.verify(&token).await.unwrap();
    f.revocations.insert(
        "0190a1b2-0000-7000-8000-0000000000aa",
        chrono::Utc::now().timestamp() + 60,
    );
    assert_eq!(f.verifier.verify(&token).await, Err(TokenError::Revoked));
}

#[tokio::test]
async fn garbage_is_malformed() {
    let f = fixture().await;
    for junk in ["", "abc", "a.b.c", "eyJhbGciOiJFZERTQSJ9.!!!.x"] {
        assert!(f.verifier.verify(junk).await.is_err(), "{junk}");
    }
}

/// Revocations published by one process reach another's list through Redis
/// within a second, and a process that connects later loads them too.
#[tokio::test]
async fn revocations_fan_out_through_redis() {
    use common::redis_conn::RedisHandle;
    let redis = RedisHandle::connect(&testkit::redis_url())
        .await
        .expect("Redis of the local stack");
    let listener_list = RevocationList::new();
    let mut tasks = common::tasks::Tasks::new();
    listener_list.spawn_listener(&mut tasks, redis.clone());
    // Give the listener time to subscribe before publishing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sid = uuid::Uuid::now_v7().to_string();
    let publisher = RevocationList::new();
    let until = chrono::Utc::now().timestamp() + 60;
    let started = std::time::Instant::now();
    publisher
        .publish(Some(&redis), std::slice::from_ref(&sid), until)
        .await
        .unwrap();
    while !listener_list.contains(&sid) && started.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(listener_list.contains(&sid), "not seen within 1 s");

    let late = RevocationList::new();
    late.spawn_listener(&mut tasks, redis.clone());
    let started = std::time::Instant::now();
    while !late.contains(&sid) && started.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        late.contains(&sid),
        "a late process must load earlier revocations"
    );
}

/// Verified tokens are remembered, but never past their expiry and never past a
/// revocation.
#[tokio::test]
async fn remembered_tokens_still_expire_and_still_get_revoked() {
    let f = fixture_with_leeway(0).await;
    let now = chrono::Utc::now().timestamp();
    let short = f.issuer.mint(&with(claims(), "exp", json!(now + 1)));
    f.verifier.verify(&short).await.unwrap();
    f.verifier.verify(&short).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(f.verifier.verify(&short).await, Err(TokenError::Expired));

    let token = f.issuer.mint(&claims());
    f.verifier.verify(&token).await.unwrap();
    f.revocations.insert(
        "0190a1b2-0000-7000-8000-0000000000aa",
        chrono::Utc::now().timestamp() + 60,
    );
    assert_eq!(f.verifier.verify(&token).await, Err(TokenError::Revoked));
}

#[tokio::test]
async fn clerk_sim_session_tokens_pass_the_clerk_issuer_as_configured_in_production() {
    let clerk = testkit::clerk_sim::ClerkSim::start().await.unwrap();
    let vars: Vec<(String, String)> = [
        ("DATABASE_URL", "postgres://unused".to_owned()),
        ("CLERK_ISSUER", clerk.issuer().to_owned()),
        ("CLERK_JWKS_URL", clerk.jwks_url.clone()),
        ("CLERK_AUTHORIZED_PARTIES", clerk.authorized_party.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings: common::config::CommonSettings =
        common::config::load_from(&[("port", "0")], vars).unwrap();
    let verifier = TokenVerifier::from_settings(&settings, None, RevocationList::new());
    let user = clerk.create_user("Ada", "Lovelace", "ada@example.com");

    let token = clerk.session_token(&user.id, &json!({})).unwrap();
    let caller = verifier.verify(&token).await.unwrap();
    assert_eq!(caller.issuer, "clerk");
    assert_eq!(caller.subject, user.id);
    assert_eq!(caller.role, Role::User);
    assert!(caller.session_id.as_deref().unwrap().starts_with("sess_"));

    let foreign = clerk
        .session_token(&user.id, &json!({"azp": "https://evil.example"}))
        .unwrap();
    assert!(verifier.verify(&foreign).await.is_err());
    let expired = clerk
        .session_token(
            &user.id,
            &json!({"exp": chrono::Utc::now().timestamp() - 120}),
        )
        .unwrap();
    assert!(verifier.verify(&expired).await.is_err());
}

/// The first-party issuer signs with Ed25519 only: an RS256 token is refused
/// even when its key is in the issuer's JWKS (an RSA key planted there, or an
/// issuer misconfigured, must not open a second way in).
#[tokio::test]
async fn the_first_party_issuer_accepts_only_eddsa() {
    let clerk = testkit::clerk_sim::ClerkSim::start().await.unwrap();
    let settings: common::config::CommonSettings = common::config::load_from(
        &[("port", "0")],
        [
            ("DATABASE_URL", "postgres://unused@127.0.0.1:1/x"),
            ("AUTH_ISSUER", ISS),
            ("AUTH_JWKS_URL", clerk.jwks_url.as_str()),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    )
    .unwrap();
    let verifier = TokenVerifier::from_settings(&settings, None, RevocationList::new());
    let token = testkit::clerk_sim::rsa_token(Algorithm::RS256, Some("at+jwt"), &claims()).unwrap();
    assert_eq!(
        verifier.verify(&token).await.unwrap_err(),
        TokenError::AlgorithmNotAllowed
    );
}

/// A JWK that names its algorithm verifies tokens of that algorithm only, even
/// where the issuer allows several.
#[tokio::test]
async fn a_jwk_verifies_only_tokens_of_its_own_alg() {
    let clerk = testkit::clerk_sim::ClerkSim::start().await.unwrap();
    let verifier = TokenVerifier::new(
        vec![IssuerConfig {
            name: "rsa".into(),
            issuer: ISS.into(),
            jwks: JwksSource::Http(clerk.jwks_url.clone()),
            audience: Some(AUD.into()),
            algorithms: vec![Algorithm::RS256, Algorithm::RS384],
            required_typ: None,
            authorized_parties: None,
            first_party: false,
        }],
        30,
        Duration::from_secs(60),
        RevocationList::new(),
    );
    let published = testkit::clerk_sim::rsa_token(Algorithm::RS256, None, &claims()).unwrap();
    assert!(
        verifier.verify(&published).await.is_ok(),
        "the key's own RS256"
    );
    let other = testkit::clerk_sim::rsa_token(Algorithm::RS384, None, &claims()).unwrap();
    assert_eq!(
        verifier.verify(&other).await.unwrap_err(),
        TokenError::AlgorithmNotAllowed,
        "the JWK says RS256"
    );
}
