//! Meetings: create, list, read, edit, delete, join, leave, end, participants and
//! chat, with every error path and other users' ids.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

pub async fn create_meeting(app: &TestApp, token: &str, title: &str) -> Value {
    let resp = app
        .send_json(
            Method::POST,
            "/api/meetings",
            Some(token),
            &json!({"title": title}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

pub async fn join(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.send_json(
        Method::POST,
        "/api/meetings/join",
        Some(token),
        &json!({"joinCode": code}),
    )
    .await
}

#[tokio::test]
async fn a_host_creates_a_meeting_with_a_typable_join_code() {
    let app = spawn_app().await;
    let (host, token) = app.clerk_user("Host", "One");
    let resp = app
        .send_json(
            Method::POST,
            "/api/meetings",
            Some(&token),
            &json!({"title": " Standup ", "description": "Daily", "scheduledAt": "2026-12-01T09:00:00+01:00", "durationMinutes": 15}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let meeting: Value = resp.json().await.unwrap();
    assert_eq!(meeting["title"], "Standup");
    assert_eq!(meeting["hostId"], host.id.as_str());
    assert_eq!(meeting["status"], "scheduled");
    assert_eq!(meeting["scheduledAt"], "2026-12-01T08:00:00Z");
    assert_eq!(meeting["durationMinutes"], 15);
    assert_eq!(meeting["startedAt"], Value::Null);
    let code = meeting["joinCode"].as_str().unwrap();
    assert!(
        code.len() == 12
            && code.chars().enumerate().all(|(i, c)| if i == 3 || i == 8 {
                c == '-'
            } else {
                c.is_ascii_lowercase()
            }),
        "{code}"
    );
    let id = meeting["id"].as_str().unwrap();
    assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
}

#[tokio::test]
async fn bad_meeting_bodies_are_refused_with_every_field_named() {
    let app = spawn_app().await;
    let (_, token) = app.clerk_user("Picky", "Host");
    for (body, fields) in [
        (json!({}), vec!["title"]),
        (
            json!({"title": "", "durationMinutes": 0}),
            vec!["durationMinutes", "title"],
        ),
        (
            json!({"title": "x".repeat(201), "durationMinutes": 1441}),
            vec!["durationMinutes", "title"],
        ),
        (
            json!({"title": "Ok", "scheduledAt": "next tuesday"}),
            vec!["scheduledAt"],
        ),
        (
            json!({"title": "Ok", "description": "d".repeat(2001)}),
            vec!["description"],
        ),
    ] {
        let err = assert_error(
            app.send_json(Method::POST, "/api/meetings", Some(&token), &body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
        )
        .await;
        assert_eq!(error_fields(&err), fields, "{body}");
    }
    assert_error(
        app.send_json(
            Method::POST,
            "/api/meetings",
            Some(&token),
            &json!({"title": 3}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
    )
    .await;
    let malformed = app
        .request(Method::POST, "/api/meetings", Some(&token))
        .header("content-type", "application/json")
        .body("{\"title\":")
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let list: Value = app
        .get_as("/api/meetings", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["meta"]["total"], 0, "nothing was created");
}

#[tokio::test]
async fn joining_by_code_is_idempotent_and_makes_the_meeting_live() {
    let app = spawn_app().await;
    let (_, host) = app.clerk_user("Host", "Two");
    let (_, guest) = app.auth().signup("First Party Guest").await;
    let meeting = create_meeting(&app, &host, "Retro").await;
    let code = meeting["joinCode"]
        .as_str()
        .unwrap()
        .to_uppercase()
        .replace('-', " ");
    let joined = join(&app, &guest, &code).await;
    assert_eq!(joined.status(), StatusCode::OK);
    let joined: Value = joined.json().await.unwrap();
    assert_eq!(joined["id"], meeting["id"]);
    assert_eq!(joined["status"], "live");
    assert!(joined["startedAt"].is_string());
    assert_eq!(join(&app, &guest, &code).await.status(), StatusCode::OK);

    let id = meeting["id"].as_str().unwrap();
    let people: Value = app
        .get_as(&format!("/api/meetings/{id}/participants"), &host)
        .await
        .json()
        .await
        .unwrap();
    let items = people["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "joining twice made one participant");
    assert_eq!(items[0]["role"], "host");
    assert_eq!(items[0]["name"], "Host Two");
    assert_eq!(items[0]["issuer"], "clerk");
    assert_eq!(items[1]["role"], "participant");
    assert_eq!(items[1]["name"], "First Party Guest");
    assert_eq!(items[1]["issuer"], "reelstack");
    assert_eq!(items[1]["present"], true);

    for code in ["abc-defg-hij", "not a code", ""] {
        assert_error(
            join(&app, &guest, code).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }
    let missing = app
        .send_json(Method::POST, "/api/meetings/join", Some(&guest), &json!({}))
        .await;
    assert_error(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
}

#[tokio::test]
async fn only_participants_see_a_meeting_and_only_its_host_changes_it() {
    let app = spawn_app().await;
    let (_, host) = app.clerk_user("Host", "Three");
    let (_, guest) = app.clerk_user("Guest", "Three");
    let (_, stranger) = app.clerk_user("Stranger", "Three");
    let meeting = create_meeting(&app, &host, "Planning").await;
    let id = meeting["id"].as_str().unwrap();
    join(&app, &guest, meeting["joinCode"].as_str().unwrap()).await;
    let path = format!("/api/meetings/{id}");

    assert_eq!(app.get_as(&path, &guest).await.status(), StatusCode::OK);
    for (method, suffix) in [
        (Method::GET, ""),
        (Method::PATCH, ""),
        (Method::DELETE, ""),
        (Method::GET, "/participants"),
        (Method::GET, "/messages"),
        (Method::POST, "/messages"),
        (Method::POST, "/leave"),
        (Method::POST, "/end"),
    ] {
        let resp = app
            .request(method.clone(), &format!("{path}{suffix}"), Some(&stranger))
            .json(&json!({"title": "x", "text": "x"}))
            .send()
            .await
            .unwrap();
        assert_error(resp, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
    for (method, suffix) in [
        (Method::PATCH, ""),
        (Method::DELETE, ""),
        (Method::POST, "/end"),
    ] {
        let resp = app
            .request(method.clone(), &format!("{path}{suffix}"), Some(&guest))
            .json(&json!({"title": "Hijacked"}))
            .send()
            .await
            .unwrap();
        assert_error(resp, StatusCode::FORBIDDEN, "FORBIDDEN").await;
    }
    let patched = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&host),
            &json!({"title": "Planning v2", "description": null}),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["title"], "Planning v2");
    for bad in ["not-a-uuid", &uuid::Uuid::now_v7().to_string()] {
        assert_error(
            app.get_as(&format!("/api/meetings/{bad}"), &host).await,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        )
        .await;
    }

    let guest_list: Value = app
        .get_as("/api/meetings", &guest)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(guest_list["meta"]["total"], 1);
    let stranger_list: Value = app
        .get_as("/api/meetings", &stranger)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stranger_list["meta"]["total"], 0);

    assert_eq!(
        app.request(Method::DELETE, &path, Some(&host))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.get_as(&path, &host).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        app.get_as(&path, &guest).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn lists_filter_by_status_and_page() {
    let app = spawn_app().await;
    let (_, host) = app.clerk_user("Busy", "Host");
    for n in 0..3 {
        create_meeting(&app, &host, &format!("Meeting {n}")).await;
    }
    let live = create_meeting(&app, &host, "Live one").await;
    let (_, guest) = app.clerk_user("Guest", "Four");
    join(&app, &guest, live["joinCode"].as_str().unwrap()).await;

    let page: Value = app
        .get_as("/api/meetings?limit=2&page=2", &host)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["meta"],
        json!({"page": 2, "limit": 2, "total": 4, "totalPages": 2})
    );
    assert_eq!(page["items"][1]["title"], "Meeting 0", "newest first");
    let lives: Value = app
        .get_as("/api/meetings?status=live", &host)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(lives["meta"]["total"], 1);
    assert_eq!(lives["items"][0]["title"], "Live one");
    let err = assert_error(
        app.get_as("/api/meetings?status=paused&limit=0", &host)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;
    assert_eq!(error_fields(&err), vec!["limit", "status"]);
}

#[tokio::test]
async fn leaving_ending_and_removing() {
    let app = spawn_app().await;
    let (_, host) = app.clerk_user("Host", "Five");
    let (guest_user, guest) = app.clerk_user("Guest", "Five");
    let (other_user, other) = app.clerk_user("Other", "Five");
    let meeting = create_meeting(&app, &host, "Demo").await;
    let (id, code) = (
        meeting["id"].as_str().unwrap(),
        meeting["joinCode"].as_str().unwrap(),
    );
    join(&app, &guest, code).await;
    join(&app, &other, code).await;

    let leave = format!("/api/meetings/{id}/leave");
    assert_eq!(
        app.request(Method::POST, &leave, Some(&guest))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.request(Method::POST, &leave, Some(&guest))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let people: Value = app
        .get_as(&format!("/api/meetings/{id}/participants"), &host)
        .await
        .json()
        .await
        .unwrap();
    let guest_row = people["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["userId"] == guest_user.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(guest_row["present"], false);
    assert_eq!(
        join(&app, &guest, code).await.status(),
        StatusCode::OK,
        "leaving is not final"
    );

    // The host removes someone: gone from the list, the meeting and the code.
    let remove = |who: &str| format!("/api/meetings/{id}/participants/{who}");
    assert_error(
        app.request(Method::DELETE, &remove(&other_user.id), Some(&guest))
            .send()
            .await
            .unwrap(),
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
    )
    .await;
    assert_eq!(
        app.request(Method::DELETE, &remove(&other_user.id), Some(&host))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.get_as(&format!("/api/meetings/{id}"), &other).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    assert_error(
        join(&app, &other, code).await,
        StatusCode::FORBIDDEN,
        "REMOVED_FROM_MEETING",
    )
    .await;
    assert_error(
        app.request(Method::DELETE, &remove(&other_user.id), Some(&host))
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let host_id = meeting["hostId"].as_str().unwrap();
    assert_error(
        app.request(Method::DELETE, &remove(host_id), Some(&host))
            .send()
            .await
            .unwrap(),
        StatusCode::CONFLICT,
        "CANNOT_REMOVE_HOST",
    )
    .await;

    let end = format!("/api/meetings/{id}/end");
    let ended = app
        .request(Method::POST, &end, Some(&host))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::OK);
    let ended: Value = ended.json().await.unwrap();
    assert_eq!(ended["status"], "ended");
    assert!(ended["endedAt"].is_string());
    let again: Value = app
        .request(Method::POST, &end, Some(&host))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        again["endedAt"], ended["endedAt"],
        "ending twice changes nothing"
    );
    assert_error(
        join(&app, &guest, code).await,
        StatusCode::CONFLICT,
        "MEETING_ENDED",
    )
    .await;
}

#[tokio::test]
async fn chat_is_for_present_participants_and_pages_newest_first() {
    let app = spawn_app().await;
    let (_, host) = app.clerk_user("Chatty", "Host");
    let (_, guest) = app.clerk_user("Quiet", "Guest");
    let meeting = create_meeting(&app, &host, "Chat").await;
    let id = meeting["id"].as_str().unwrap();
    join(&app, &guest, meeting["joinCode"].as_str().unwrap()).await;
    let messages = format!("/api/meetings/{id}/messages");

    let first = app
        .send_json(
            Method::POST,
            &messages,
            Some(&guest),
            &json!({"text": "  hello  "}),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["text"], "hello");
    assert_eq!(first["senderName"], "Quiet Guest");
    assert_eq!(first["meetingId"], id);
    for n in 0..44 {
        let resp = app
            .send_json(
                Method::POST,
                &messages,
                Some(&host),
                &json!({"text": format!("m{n}")}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{messages}?limit=20&cursor={c}"),
            None => format!("{messages}?limit=20"),
        };
        let page: Value = app.get_as(&path, &guest).await.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["text"].as_str().unwrap().to_owned());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 45);
    assert_eq!(seen[0], "m43", "newest first");
    assert_eq!(seen[44], "hello");
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), 45, "no message twice across pages");

    for (body, code) in [
        (json!({"text": "   "}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"text": "x".repeat(2001)}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"text": 5}), StatusCode::BAD_REQUEST),
    ] {
        assert_eq!(
            app.send_json(Method::POST, &messages, Some(&guest), &body)
                .await
                .status(),
            code,
            "{body}"
        );
    }
    assert_error(
        app.get_as(&format!("{messages}?cursor=garbage"), &guest)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "VALIDATION_FAILED",
    )
    .await;

    app.request(
        Method::POST,
        &format!("/api/meetings/{id}/leave"),
        Some(&guest),
    )
    .send()
    .await
    .unwrap();
    assert_error(
        app.send_json(
            Method::POST,
            &messages,
            Some(&guest),
            &json!({"text": "still here?"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "NOT_PRESENT",
    )
    .await;
    assert_eq!(
        app.get_as(&messages, &guest).await.status(),
        StatusCode::OK,
        "history stays readable"
    );
    app.request(
        Method::POST,
        &format!("/api/meetings/{id}/end"),
        Some(&host),
    )
    .send()
    .await
    .unwrap();
    assert_error(
        app.send_json(
            Method::POST,
            &messages,
            Some(&host),
            &json!({"text": "after the end"}),
        )
        .await,
        StatusCode::CONFLICT,
        "MEETING_ENDED",
    )
    .await;
}

#[tokio::test]
async fn meeting_routes_need_a_valid_token() {
    let app = spawn_app().await;
    let forged = app.forged_token().await;
    for token in [None, Some(forged.as_str())] {
        for (method, path) in [
            (Method::POST, "/api/meetings"),
            (Method::GET, "/api/meetings"),
            (Method::POST, "/api/meetings/join"),
        ] {
            let resp = app
                .request(method, path, token)
                .json(&json!({"title": "x"}))
                .send()
                .await
                .unwrap();
            assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        }
    }
}
