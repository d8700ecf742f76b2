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
    assert_eq!(a.live_status(&id, Some(&host)).await, StatusCode::CONFLICT);
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
        app.live_status(&id, Some(&guest)).await,
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
        app.live_status(id, Some(&guest)).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_socket_needs_a_valid_token_a_membership_and_an_upgrade() {
    let app = spawn_app().await;
    let (host, _, _, id, _) = meeting_with_guest(&app).await;
    let (_, stranger) = app.clerk_user("Not", "Invited");
    let forged = app.forged_token().await;
    assert_eq!(app.live_status(&id, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.live_status(&id, Some(&forged)).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.live_status(&id, Some(&stranger)).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.live_status(&uuid::Uuid::now_v7().to_string(), Some(&host))
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.try_connect_live(&id, Some(&host), TokenIn::Protocol)
            .await,
        (StatusCode::SWITCHING_PROTOCOLS, Some("bearer".to_owned())),
        "a browser's token in Sec-WebSocket-Protocol works, and the server selects `bearer`"
    );
    assert_eq!(
        app.try_connect_live(&id, Some(&host), TokenIn::Query)
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "a token in the URL is not taken: proxies and access logs would keep it"
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

/// A signal goes only to a participant who is present: one who left gets none
/// (the sender is told), and leaving closes the leaver's own sockets.
#[tokio::test]
async fn signals_go_to_present_participants_and_leaving_closes_the_socket() {
    let app = spawn_app().await;
    let (host, guest, guest_id, id, _) = meeting_with_guest(&app).await;
    let mut host_socket = app.connect_live(&id, &host).await;
    let mut guest_socket = app.connect_live(&id, &guest).await;
    let resp = app
        .request(
            Method::POST,
            &format!("/api/meetings/{id}/leave"),
            Some(&guest),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        next_close(&mut guest_socket).await,
        (1000, "left the meeting".to_owned())
    );
    let left = next_frame(&mut host_socket).await;
    assert_eq!(left["type"], "participant.left");
    send_frame(
        &mut host_socket,
        json!({"type": "signal", "to": guest_id, "payload": {"sdp": "offer"}}),
    )
    .await;
    let reply = next_frame(&mut host_socket).await;
    assert_eq!(reply["type"], "error");
    assert!(
        reply["message"].as_str().unwrap().contains("not present"),
        "{reply}"
    );
}

/// Signal frames are limited per socket (bursts of twice the rate); past it the
/// sender is told and nothing more is relayed.
#[tokio::test]
async fn signals_are_rate_limited_per_socket() {
    let app = spawn_app_with(&[("LIVE_SIGNALS_PER_SEC", "5")]).await;
    let (host, guest, guest_id, id, _) = meeting_with_guest(&app).await;
    let mut host_socket = app.connect_live(&id, &host).await;
    let mut guest_socket = app.connect_live(&id, &guest).await;
    for n in 0..30 {
        send_frame(
            &mut host_socket,
            json!({"type": "signal", "to": guest_id, "payload": {"candidate": n}}),
        )
        .await;
    }
    let mut refused = 0;
    while !stays_quiet_for_error(&mut host_socket, &mut refused).await {}
    let mut relayed = 0;
    while !stays_quiet(&mut guest_socket, Duration::from_millis(500)).await {
        relayed += 1;
    }
    assert!(
        refused >= 15,
        "the sender was told of {refused} refused signals"
    );
    assert!((10..=15).contains(&relayed), "{relayed} signals relayed");
}

/// Counts the sender's error frames until it stays quiet for half a second;
/// true once quiet.
async fn stays_quiet_for_error(socket: &mut Socket, refused: &mut usize) -> bool {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    match tokio::time::timeout(Duration::from_millis(500), socket.next()).await {
        Err(_) => true,
        Ok(Some(Ok(Message::Text(text)))) => {
            let frame: Value = serde_json::from_str(text.as_str()).unwrap();
            if frame["type"] == "error" && frame["message"].as_str().unwrap().contains("too many") {
                *refused += 1;
            }
            false
        }
        Ok(_) => false,
    }
}

/// A socket lives as long as the token that opened it (Clerk's last a minute):
/// the client is told when it is about to expire, and closed with 4001 unless it
/// sent a newer token of the same user.
#[tokio::test]
async fn sockets_close_when_their_token_expires_unless_renewed() {
    let app = spawn_app_with(&[("JWT_LEEWAY_SECS", "0")]).await;
    let (host_user, _) = app.clerk_user("Short", "Lived");
    let soon = chrono::Utc::now().timestamp() + 3;
    let short = app
        .clerk()
        .session_token(&host_user.id, &json!({"exp": soon}))
        .unwrap();
    let meeting = create_meeting(&app, &short, "Expiring").await;
    let id = meeting["id"].as_str().unwrap().to_owned();

    let mut stale = app.connect_live(&id, &short).await;
    let notice = next_frame(&mut stale).await;
    assert_eq!(notice["type"], "token.expiring");
    assert_eq!(notice["expiresAt"], soon);

    let mut renewed = app.connect_live(&id, &short).await;
    assert_eq!(next_frame(&mut renewed).await["type"], "token.expiring");
    let longer = app
        .clerk()
        .session_token(&host_user.id, &json!({"exp": soon + 600}))
        .unwrap();
    send_frame(&mut renewed, json!({"type": "auth", "token": longer})).await;
    let ack = next_frame(&mut renewed).await;
    assert_eq!(ack["type"], "authenticated", "{ack}");
    assert_eq!(ack["expiresAt"], soon + 600);
    // Another user's token cannot take the socket over.
    let (_, stranger) = app.clerk_user("Not", "Host");
    send_frame(&mut renewed, json!({"type": "auth", "token": stranger})).await;
    assert_eq!(next_frame(&mut renewed).await["type"], "error");

    assert_eq!(
        next_close(&mut stale).await.0,
        4001,
        "the socket of the expired token is closed"
    );
    assert!(
        stays_quiet(&mut renewed, Duration::from_millis(1500)).await,
        "the renewed socket stays open past the first token's expiry"
    );
}
