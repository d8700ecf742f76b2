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

/// One part of a `multipart/form-data` body: a text field, or a file when it
/// has a file name.
pub struct Part<'a> {
    pub name: &'a str,
    pub filename: Option<&'a str>,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

impl<'a> Part<'a> {
    pub fn text(name: &'a str, value: &'a str) -> Self {
        Self {
            name,
            filename: None,
            content_type: "text/plain; charset=utf-8",
            bytes: value.as_bytes(),
        }
    }

    pub fn file(name: &'a str, filename: &'a str, content_type: &'a str, bytes: &'a [u8]) -> Self {
        Self {
            name,
            filename: Some(filename),
            content_type,
            bytes,
        }
    }
}

/// A `multipart/form-data` body: its `Content-Type` (with the boundary) and bytes.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = format!("reelstack{}", uuid::Uuid::now_v7().simple());
    let mut body = Vec::new();
    for part in parts {
        let filename = part
            .filename
            .map(|f| format!("; filename=\"{f}\""))
            .unwrap_or_default();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{}\"{filename}\r\nContent-Type: {}\r\n\r\n",
                part.name, part.content_type
            )
            .as_bytes(),
        );
        body.extend_from_slice(part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An H.264/AAC MP4 of `seconds` at `width`x`height`, made by ffmpeg from its
/// lavfi test sources (`make test` installs ffmpeg).
pub fn clip(seconds: u32, width: u32, height: u32) -> Vec<u8> {
    let out = std::env::temp_dir().join(format!("clip-{}.mp4", uuid::Uuid::now_v7().simple()));
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "testsrc=duration={seconds}:size={width}x{height}:rate=24"
        ))
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:duration={seconds}"))
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-c:a", "aac", "-shortest", "-movflags", "+faststart"])
        .arg(&out)
        .status()
        .expect("ffmpeg runs (make test installs it)");
    assert!(status.success(), "ffmpeg made no clip");
    let bytes = std::fs::read(&out).expect("the clip");
    std::fs::remove_file(&out).expect("clip removed");
    bytes
}
