//! A meeting through the real gateway: a Clerk host (clerk-sim) and a first-party
//! guest (auth) create, join and chat, and the guest's live socket goes through
//! nginx's WebSocket upgrade.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code fails loudly"
)]

use std::time::Duration;

use e2e::*;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

async fn next_text(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Message {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("readable");
        if !matches!(frame, Message::Ping(_) | Message::Pong(_)) {
            return frame;
        }
    }
}

#[tokio::test]
async fn a_clerk_host_and_a_first_party_guest_meet_and_chat_through_the_gateway() {
    let (_, host) = clerk_user("Gateway").await;
    let (_, guest_signup) = signup("Gateway Guest").await;
    let guest = guest_signup["accessToken"].as_str().unwrap().to_owned();

    let created = call(
        Method::POST,
        "/api/meetings",
        Some(&host),
        Some(json!({"title": "Through nginx"})),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let meeting: Value = created.json().await.unwrap();
    let id = meeting["id"].as_str().unwrap();
    let joined = call(
        Method::POST,
        "/api/meetings/join",
        Some(&guest),
        Some(json!({"joinCode": meeting["joinCode"]})),
    )
    .await;
    assert_eq!(joined.status(), StatusCode::OK);

    let url = format!(
        "{}/api/meetings/{id}/live",
        gateway().replacen("http://", "ws://", 1)
    );
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {guest}").parse().unwrap());
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the gateway upgrades the live route");
    assert!(response.headers().contains_key("x-request-id"));
    match next_text(&mut socket).await {
        Message::Text(t) => assert_eq!(t.as_str(), r#"{"type":"ready"}"#),
        other => panic!("{other:?}"),
    }

    let posted = call(
        Method::POST,
        &format!("/api/meetings/{id}/messages"),
        Some(&host),
        Some(json!({"text": "hello through nginx"})),
    )
    .await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    match next_text(&mut socket).await {
        Message::Text(t) => {
            let event: Value = serde_json::from_str(t.as_str()).unwrap();
            assert_eq!(event["type"], "message.created");
            assert_eq!(event["message"]["text"], "hello through nginx");
            assert_eq!(event["message"]["senderName"], "Gateway E2E");
        }
        other => panic!("{other:?}"),
    }
    let people: Value = call(
        Method::GET,
        &format!("/api/meetings/{id}/participants"),
        Some(&guest),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(people["items"][1]["name"], "Gateway Guest");

    let ended = call(
        Method::POST,
        &format!("/api/meetings/{id}/end"),
        Some(&host),
        None,
    )
    .await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert!(
        matches!(next_text(&mut socket).await, Message::Text(_)),
        "meeting.ended"
    );
    match next_text(&mut socket).await {
        Message::Close(Some(close)) => assert_eq!(close.reason.as_str(), "meeting ended"),
        other => panic!("{other:?}"),
    }
}
