//! Notifications: grouped while unread, the unread count, marking read, and the
//! server-sent-event stream across replicas.

use std::time::Duration;

use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// One server-sent event.
#[derive(Debug)]
struct Event {
    id: Option<String>,
    name: String,
    data: Value,
}

/// Reads server-sent events off a streaming response, chunk by chunk.
struct Sse {
    resp: Response,
    buf: String,
}

impl Sse {
    async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Self {
        let mut req = app.request(Method::GET, "/api/notifications/stream", Some(token));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let resp = req.send().await.expect("stream");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Self {
            resp,
            buf: String::new(),
        }
    }

    /// The next event (comments and `retry:` skipped); `None` when the stream
    /// ends or nothing comes within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut id, mut name, mut data) = (None, None, None);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        name = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(v).expect("event data is JSON"));
                    }
                }
                if let (Some(name), Some(data)) = (name, data) {
                    return Some(Event { id, name, data });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .ok()?
                .expect("stream read")?;
            self.buf
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
        }
    }

    /// The next event, which must be named `name`.
    async fn expect(&mut self, name: &str) -> Event {
        let event = self
            .next(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no {name} event"));
        assert_eq!(event.name, name, "{event:?}");
        event
    }
}

async fn unread(app: &TestApp, user: &User) -> i64 {
    app.read("/api/notifications/unread-count", Some(&user.token))
        .await["count"]
        .as_i64()
        .expect("count")
}

async fn notifications(app: &TestApp, user: &User, query: &str) -> Vec<Value> {
    app.read(&format!("/api/notifications{query}"), Some(&user.token))
        .await["items"]
        .as_array()
        .expect("items")
        .clone()
}

fn names(n: &Value) -> Vec<&str> {
    n["actors"]
        .as_array()
        .expect("actors")
        .iter()
        .map(|a| a["name"].as_str().expect("actor name"))
        .collect()
}

#[tokio::test]
async fn likes_comments_replies_and_follows_notify_grouped_while_unread() {
    let app = spawn_app().await;
    let star = app.user("Star").await;
    let (ann, bob) = (app.user("Ann").await, app.user("Bob").await);
    let video = app.video(&star, "a clip #one").await;
    let vid = video["id"].as_str().unwrap();
    let like = format!("/api/videos/{vid}/like");

    // Ann likes, unlikes and likes again; Bob likes; the star likes their own.
    app.put_as(&like, &ann.token).await;
    app.delete_as(&like, &ann.token).await;
    app.put_as(&like, &ann.token).await;
    app.put_as(&like, &bob.token).await;
    app.put_as(&like, &star.token).await;
    let comment = TestApp::json_of(
        app.post(
            &format!("/api/videos/{vid}/comments"),
            Some(&ann.token),
            &json!({"text": "nice"}),
        )
        .await,
    )
    .await;
    let reply = TestApp::json_of(
        app.post(
            &format!("/api/videos/{vid}/comments"),
            Some(&star.token),
            &json!({"text": "thanks", "parentId": comment["id"]}),
        )
        .await,
    )
    .await;
    app.put_as(&format!("/api/users/{}/follow", star.id), &ann.token)
        .await;

    let items = notifications(&app, &star, "").await;
    let kinds: Vec<&str> = items.iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["follow", "comment", "like"], "latest change first");
    let likes = &items[2];
    assert_eq!(likes["actorCount"], 2, "Ann's second like is no news");
    assert_eq!(names(likes), ["Bob", "Ann"]);
    assert_eq!(likes["video"]["id"], vid);
    assert_eq!(likes["video"]["caption"], "a clip #one");
    assert_eq!(likes["read"], false);
    assert_eq!(
        items[1]["comment"],
        json!({"id": comment["id"], "text": "nice"})
    );
    assert_eq!(names(&items[0]), ["Ann"]);
    assert_eq!(items[0]["video"], Value::Null);
    assert_eq!(unread(&app, &star).await, 3);

    // Ann hears of the star's reply to her comment, not of her own actions.
    let ann_items = notifications(&app, &ann, "").await;
    assert_eq!(ann_items.len(), 1, "{ann_items:?}");
    assert_eq!(ann_items[0]["type"], "reply");
    assert_eq!(ann_items[0]["comment"]["id"], reply["id"]);
    assert_eq!(names(&ann_items[0]), ["Star"]);
    assert!(notifications(&app, &bob, "").await.is_empty());

    let only = notifications(&app, &star, "?types=like,follow").await;
    assert_eq!(only.len(), 2);

    // Read up to the comment: the like and the comment; the follow stays unread.
    let read = TestApp::json_of(
        app.post(
            "/api/notifications/read",
            Some(&star.token),
            &json!({"upTo": items[1]["id"]}),
        )
        .await,
    )
    .await;
    assert_eq!(read, json!({"count": 1}));
    // A like after the group was read starts a new group.
    let cat = app.user("Cat").await;
    app.put_as(&like, &cat.token).await;
    let items = notifications(&app, &star, "?types=like").await;
    assert_eq!(items.len(), 2);
    assert_eq!(
        (items[0]["read"].as_bool(), items[0]["actorCount"].as_i64()),
        (Some(false), Some(1))
    );
    assert_eq!(items[1]["read"], true);
    let all = TestApp::json_of(
        app.post("/api/notifications/read", Some(&star.token), &json!({}))
            .await,
    )
    .await;
    assert_eq!(all, json!({"count": 0}));

    // Deleting the video takes its notifications with it.
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/videos/{vid}"),
            Some(&star.token),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let left = notifications(&app, &star, "").await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["type"], "follow");
    assert!(notifications(&app, &ann, "").await.is_empty());
}

#[tokio::test]
async fn pages_walk_every_notification_once() {
    let app = spawn_app().await;
    let star = app.user("Star").await;
    let mut fans = Vec::new();
    for i in 0..5 {
        let fan = app.user(format!("Fan {i}")).await;
        app.put_as(&format!("/api/users/{}/follow", star.id), &fan.token)
            .await;
        // Each video's likes are a group of their own.
        let video = app.video(&star, &format!("clip {i}")).await;
        app.put_as(
            &format!("/api/videos/{}/like", video["id"].as_str().unwrap()),
            &fan.token,
        )
        .await;
        fans.push(fan);
    }
    let everything = notifications(&app, &star, "?limit=100").await;
    assert_eq!(everything.len(), 6, "one follow group and five like groups");
    assert_eq!(
        everything[1]["type"], "follow",
        "its last change was the 5th follow, just before the 5th like"
    );
    assert_eq!(everything[1]["actorCount"], 5);
    let walked = all_pages(&app, "/api/notifications", Some(&star.token), 2).await;
    let expected: Vec<String> = everything
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(walked, expected);
}

#[tokio::test]
async fn bad_requests_are_refused_and_nobody_reads_anothers_notifications() {
    let app = spawn_app().await;
    let (star, fan) = (app.user("Star").await, app.user("Fan").await);
    app.put_as(&format!("/api/users/{}/follow", star.id), &fan.token)
        .await;
    let theirs = notifications(&app, &star, "").await;

    let too_long = format!("?types=like{}", ",like".repeat(20));
    for query in [
        too_long.as_str(),
        "?types=bogus",
        "?types=like,",
        "?limit=0",
        "?limit=101",
        "?cursor=bogus",
    ] {
        let resp = app
            .send(
                Method::GET,
                &format!("/api/notifications{query}"),
                Some(&star.token),
                None,
            )
            .await;
        assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
    }
    // Someone else's notification cannot be marked read, nor an id that is none.
    for up_to in [theirs[0]["id"].clone(), json!("not-an-id")] {
        let resp = app
            .post(
                "/api/notifications/read",
                Some(&fan.token),
                &json!({"upTo": up_to}),
            )
            .await;
        let body = assert_error(resp, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED").await;
        assert_eq!(error_fields(&body), ["upTo"]);
    }
    assert_eq!(unread(&app, &star).await, 1, "still unread");
    let resp = app
        .post(
            "/api/notifications/read",
            Some(&star.token),
            &json!({"upTo": 7}),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = app
        .post("/api/notifications/read", Some(&star.token), &json!([]))
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;
    let resp = app
        .post_raw(
            "/api/notifications/read",
            Some(&star.token),
            "application/json",
            b"{\"upTo\":".to_vec(),
        )
        .await;
    assert_error(resp, StatusCode::BAD_REQUEST, "BAD_REQUEST").await;

    let forged = app.forged_token(&star.id).await;
    for path in [
        "/api/notifications",
        "/api/notifications/unread-count",
        "/api/notifications/stream",
    ] {
        for token in [None, Some(forged.as_str())] {
            let resp = app.send(Method::GET, path, token, None).await;
            assert_error(resp, StatusCode::UNAUTHORIZED, "UNAUTHENTICATED").await;
        }
    }
    let resp = app
        .send(
            Method::DELETE,
            "/api/notifications",
            Some(&star.token),
            None,
        )
        .await;
    assert_error(resp, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn the_stream_delivers_across_replicas_and_catches_up_after_a_reconnect() {
    let a = spawn_app().await;
    let b = a.spawn_replica().await;
    let (star, fan, other) = (
        a.user("Star").await,
        a.user("Fan").await,
        a.user("Other").await,
    );
    let video = a.video(&star, "live").await;
    let vid = video["id"].as_str().unwrap().to_owned();

    let mut stream = Sse::open(&b, &star.token, None).await;
    assert_eq!(stream.expect("unread").await.data, json!({"count": 0}));
    let mut bystander = Sse::open(&b, &other.token, None).await;
    bystander.expect("unread").await;

    // A like on replica A reaches the star's stream on replica B.
    a.put_as(&format!("/api/videos/{vid}/like"), &fan.token)
        .await;
    let event = stream.expect("notification").await;
    assert_eq!(event.data["type"], "like");
    assert_eq!(names(&event.data), ["Fan"]);
    assert_eq!(event.data["video"]["id"], vid.as_str());
    let first_id = event.id.clone().expect("a notification event has an id");
    assert_eq!(stream.expect("unread").await.data, json!({"count": 1}));
    assert!(
        bystander.next(Duration::from_millis(500)).await.is_none(),
        "others hear nothing"
    );

    // While the star is away, the fan comments and follows.
    drop(stream);
    a.post(
        &format!("/api/videos/{vid}/comments"),
        Some(&fan.token),
        &json!({"text": "hello"}),
    )
    .await;
    a.put_as(&format!("/api/users/{}/follow", star.id), &fan.token)
        .await;

    // Reconnecting with the last id it saw, the star gets both, in order.
    let mut stream = Sse::open(&a, &star.token, Some(&first_id)).await;
    let comment = stream.expect("notification").await;
    assert_eq!(comment.data["type"], "comment");
    let follow = stream.expect("notification").await;
    assert_eq!(follow.data["type"], "follow");
    assert_eq!(stream.expect("unread").await.data, json!({"count": 3}));
    let last = follow.id.expect("id");
    assert!(last.parse::<i64>().unwrap() > first_id.parse::<i64>().unwrap());

    // A regrouped notification comes again with a new id.
    let late = a.user("Late").await;
    b.put_as(&format!("/api/videos/{vid}/like"), &late.token)
        .await;
    let again = stream.expect("notification").await;
    assert_eq!(again.data["id"], event.data["id"], "the same like group");
    assert_eq!(again.data["actorCount"], 2);
    assert_eq!(names(&again.data), ["Late", "Fan"]);
    assert!(again.id.unwrap().parse::<i64>().unwrap() > last.parse::<i64>().unwrap());
}

#[tokio::test]
async fn a_stream_ends_when_its_token_expires() {
    let world = World::start(&[("AUTH_ACCESS_TOKEN_TTL_SECS", "3")]).await;
    let app = spawn_in(world, &[]).await;
    let star = app.user("Star").await;
    let mut stream = Sse::open(&app, &star.token, None).await;
    stream.expect("unread").await;
    let expired = stream.expect("token.expired").await;
    assert_eq!(expired.data, json!({}));
    assert!(
        stream.next(Duration::from_secs(2)).await.is_none(),
        "the stream ends after token.expired"
    );
}
