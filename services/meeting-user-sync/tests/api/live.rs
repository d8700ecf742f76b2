//! The live WebSocket: events to every participant, signaling to one, across two
//! replicas; closes with a reason on end, removal and revoked sessions.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::meetings::{create_meeting, join};

/// A live meeting hosted by a Clerk user, with one Clerk guest already in.
async fn meeting_with_guest(app: &TestApp) -> (String, String, String, String, String) {
    let (_, host) = app.clerk_user("Live", "Host");
    let (guest_user, guest) = app.clerk_user("Live", "Guest");
    let meeting = create_meeting(app, &host, "Live").await;
    let id = meeting["id"].as_str().unwrap().to_owned();
    let code = meeting["joinCode"].as_str().unwrap().to_owned();
    join(app, &guest, &code).await;
    (host, guest, guest_user.id, id, code)
}

async fn post_message(app: &TestApp, meeting: &str, token: &str, text: &str) {
    let resp = app
        .send_json(
            Method::POST,
            &format!("/api/meetings/{meeting}/messages"),
            Some(token),
            &json!({"text": text}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn joins_and_messages_reach_every_participants_socket() {
    let app = spawn_app().await;
    let (host, guest, _, id, code) = meeting_with_guest(&app).await;
    let mut host_socket = app.connect_live(&id, &host).await;
    let mut guest_socket = app.connect_live(&id, &guest).await;

    let (newcomer_user, newcomer) = app.clerk_user("New", "Comer");
    join(&app, &newcomer, &code).await;
    for socket in [&mut host_socket, &mut guest_socket] {
        let event = next_frame(socket).await;
        assert_eq!(event["type"], "participant.joined", "{event}");
        assert_eq!(event["participant"]["userId"], newcomer_user.id.as_str());
        assert_eq!(event["participant"]["name"], "New Comer");
    }

    post_message(&app, &id, &guest, "hi all").await;
    for socket in [&mut host_socket, &mut guest_socket] {
        let event = next_frame(socket).await;
        assert_eq!(event["type"], "message.created", "{event}");
        assert_eq!(event["message"]["text"], "hi all");
        assert_eq!(event["message"]["senderName"], "Live Guest");
    }

    app.request(
        Method::POST,
        &format!("/api/meetings/{id}/leave"),
        Some(&newcomer),
    )
    .send()
    .await
    .unwrap();
    for socket in [&mut host_socket, &mut guest_socket] {
        let left = next_frame(socket).await;
        assert_eq!(
            left,
            json!({"type": "participant.left", "userId": newcomer_user.id, "reason": "left"})
        );
    }

    send_frame(&mut guest_socket, json!({"type": "ping"})).await;
    assert_eq!(next_frame(&mut guest_socket).await, json!({"type": "pong"}));
    send_frame(&mut guest_socket, json!({"type": "dance"})).await;
    assert_eq!(next_frame(&mut guest_socket).await["type"], "error");
}

#[tokio::test]
async fn signals_go_to_one_participant_and_events_cross_replicas() {
    let a = spawn_app().await;
    let b = a.spawn_replica().await;
    let (host, guest, guest_id, id, code) = meeting_with_guest(&a).await;
    let (_, third) = a.clerk_user("Third", "Wheel");
    join(&a, &third, &code).await;
    let mut host_socket = a.connect_live(&id, &host).await;
    let mut guest_socket = b.connect_live(&id, &guest).await;
    let mut third_socket = a.connect_live(&id, &third).await;

    let offer = json!({"sdp": "v=0 offer", "kind": "offer"});
    send_frame(
        &mut host_socket,
        json!({"type": "signal", "to": guest_id, "payload": offer}),
    )
    .await;
    let received = next_frame(&mut guest_socket).await;
    assert_eq!(received["type"], "signal");
    assert_eq!(received["to"], guest_id.as_str());
    assert_eq!(received["payload"], offer);
    let host_id = received["from"].as_str().unwrap().to_owned();
    assert!(
        stays_quiet(&mut third_socket, Duration::from_millis(500)).await,
        "not for the third"
    );
    assert!(
        stays_quiet(&mut host_socket, Duration::from_millis(100)).await,
        "not echoed"
    );

    let answer = json!({"sdp": "v=0 answer", "kind": "answer"});
    send_frame(
        &mut guest_socket,
        json!({"type": "signal", "to": host_id, "payload": answer}),
    )
    .await;
    assert_eq!(next_frame(&mut host_socket).await["payload"], answer);

    // A message posted through one replica reaches sockets on both.
    post_message(&b, &id, &third, "across replicas").await;
    for socket in [&mut host_socket, &mut guest_socket, &mut third_socket] {
        assert_eq!(
            next_frame(socket).await["message"]["text"],
            "across replicas"
        );
    }
}

#[tokio::test]
async fn ending_the_meeting_closes_every_socket_with_a_reason() {
    let a = spawn_app().await;
    let b = a.spawn_replica().await;
    let (host, guest, _, id, _) = meeting_with_guest(&a).await;
    let mut host_socket = a.connect_live(&id, &host).await;
    let mut guest_socket = b.connect_live(&id, &guest).await;
    a.request(
        Method::POST,
        &format!("/api/meetings/{id}/end"),
        Some(&host),
    )
    .send()
    .await
    .unwrap();
    for socket in [&mut host_socket, &mut guest_socket] {
        assert_eq!(
            next_frame(socket).await,
            json!({"type": "meeting.ended", "reason": "ended"})
        );
        assert_eq!(next_close(socket).await, (1000, "meeting ended".to_owned()));
    }
    assert_eq!(
        a.try_connect_live(&id, Some(&host), false).await,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_removed_participant_is_disconnected_and_the_others_are_told() {
    let app = spawn_app().await;
    let (host, guest, guest_id, id, _) = meeting_with_guest(&app).await;
    let mut host_socket = app.connect_live(&id, &host).await;
    let mut guest_socket = app.connect_live(&id, &guest).await;
    let removed = app
        .request(
            Method::DELETE,
            &format!("/api/meetings/{id}/participants/{guest_id}"),
            Some(&host),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let told = next_frame(&mut host_socket).await;
    assert_eq!(
        told,
        json!({"type": "participant.left", "userId": guest_id, "reason": "removed"})
    );
    assert_eq!(next_frame(&mut guest_socket).await["reason"], "removed");
    assert_eq!(
        next_close(&mut guest_socket).await,
        (1008, "removed from the meeting".to_owned())
    );
    assert_eq!(
        app.try_connect_live(&id, Some(&guest), false).await,
        StatusCode::NOT_FOUND
    );
    assert!(
        stays_quiet(&mut host_socket, Duration::from_millis(200)).await,
        "the host stays connected"
    );
}

#[tokio::test]
async fn a_revoked_session_is_disconnected_within_seconds() {
    // auth publishes revocations on the same Redis this service listens to.
    let redis = testkit::redis_url();
    let auth = Auth::start_with(&[("REDIS_URL", redis.as_str())]).await;
    let app = spawn_app_with_auth(auth, &[]).await;
    let (_, host) = app.clerk_user("Revoke", "Host");
    let (_, guest) = app.auth().signup("Soon Logged Out").await;
    let meeting = create_meeting(&app, &host, "Revocation").await;
    let id = meeting["id"].as_str().unwrap();
    join(&app, &guest, meeting["joinCode"].as_str().unwrap()).await;
    let mut socket = app.connect_live(id, &guest).await;
    app.auth().logout(&guest).await;
    let started = std::time::Instant::now();
    assert_eq!(
        next_close(&mut socket).await,
        (1008, "session revoked".to_owned())
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "closed within seconds"
    );
    assert_eq!(
        app.try_connect_live(id, Some(&guest), false).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_socket_needs_a_valid_token_a_membership_and_an_upgrade() {
    let app = spawn_app().await;
    let (host, _, _, id, _) = meeting_with_guest(&app).await;
    let (_, stranger) = app.clerk_user("Not", "Invited");
    let forged = app.forged_token().await;
    assert_eq!(
        app.try_connect_live(&id, None, false).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_connect_live(&id, Some(&forged), false).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_connect_live(&id, Some(&stranger), false).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.try_connect_live(&uuid::Uuid::now_v7().to_string(), Some(&host), false)
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.try_connect_live(&id, Some(&host), true).await,
        StatusCode::SWITCHING_PROTOCOLS,
        "a token in access_token works too"
    );
    let plain = app.get_as(&format!("/api/meetings/{id}/live"), &host).await;
    assert_error(plain, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
}

#[tokio::test]
async fn silent_sockets_are_pinged_then_closed() {
    let app = spawn_app_with(&[("LIVE_PING_SECS", "1")]).await;
    let (host, _, _, id, _) = meeting_with_guest(&app).await;
    let mut socket = app.connect_live(&id, &host).await;
    // Not reading means not answering the server's pings.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let mut pinged = false;
    let (code, reason) = loop {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        match socket.next().await {
            Some(Ok(Message::Ping(_))) => pinged = true,
            Some(Ok(Message::Close(Some(close)))) => {
                break (u16::from(close.code), close.reason.to_string())
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(pinged, "the server pinged");
    assert_eq!((code, reason.as_str()), (1001, "no answer to pings"));
}

#[tokio::test]
async fn the_host_going_live_makes_a_scheduled_meeting_live() {
    let app = spawn_app().await;
    let (_, host) = app.clerk_user("Early", "Host");
    let meeting = create_meeting(&app, &host, "Scheduled").await;
    let id = meeting["id"].as_str().unwrap();
    let _socket = app.connect_live(id, &host).await;
    let now: Value = app
        .get_as(&format!("/api/meetings/{id}"), &host)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "live");
}
