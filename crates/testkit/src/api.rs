#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]
//! Assertions on what clients see, shared by every service's API tests.

use reqwest::{Response, StatusCode};
use serde_json::Value;

/// Asserts an error answer in the envelope: the status, a JSON body, the code, a
/// message, a `details` object, and a `requestId` equal to the `X-Request-Id`
/// header. Returns the body.
pub async fn assert_error(resp: Response, status: StatusCode, code: &str) -> Value {
    let actual = resp.status();
    assert!(
        resp.headers().get_all("x-request-id").iter().count() <= 1,
        "at most one X-Request-Id header"
    );
    let request_id = resp
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    assert!(
        content_type.starts_with("application/json"),
        "not JSON: {content_type} {text}"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["code"], code, "body: {text}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(body["error"]["details"].is_object());
    assert_eq!(
        body["error"]["requestId"].as_str(),
        request_id.as_deref(),
        "requestId matches the header"
    );
    body
}

/// The fields named in a 422's `details.fields`, sorted.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["error"]["details"]["fields"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}
