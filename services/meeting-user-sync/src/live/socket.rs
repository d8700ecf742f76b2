//! `GET /api/meetings/{id}/live`: the WebSocket of one participant connection.
//!
//! Server frames are the [`super::Event`]s plus `{"type":"ready"}` once the socket is
//! registered and `{"type":"error","message"}` for a frame it cannot use. Client
//! frames: `{"type":"signal","to":"<userId>","payload":{…}}` (relayed to that
//! participant only) and `{"type":"ping"}` (answered `{"type":"pong"}`). Idle
//! sockets are pinged; one that answers nothing for two intervals is closed.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use common::tokens::{bearer_token, AuthUser, TokenVerifier};
use common::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Event, Hub, Outbound};
use crate::db;
use crate::routes::meetings::{meeting_id, membership};
use crate::state::AppState;

/// The largest frame a client may send (signaling payloads are small).
const MAX_FRAME_BYTES: usize = 64 * 1024;

#[derive(Debug, Deserialize)]
pub struct AccessTokenQuery {
    pub access_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ClientFrame {
    Signal { to: String, payload: Value },
    Ping,
}

#[utoipa::path(get, path = "/api/meetings/{id}/live", tag = "live",
    params(
        ("id" = Uuid, Path, description = "Meeting id"),
        ("access_token" = Option<String>, Query, description = "The access token, for clients that cannot set `Authorization` on a WebSocket"),
    ),
    responses(
        (status = 101, description = "Switched to a WebSocket: server frames `ready`, `participant.joined`, `participant.left`, `message.created`, `meeting.ended`, `signal`, `error`; client frames `signal {to, payload}` and `ping`"),
        (status = 400, description = "Not a WebSocket upgrade", body = super::super::routes::dto::ErrorEnvelope),
        (status = 401, description = "Missing, invalid, expired or revoked token", body = super::super::routes::dto::ErrorEnvelope),
        (status = 403, description = "The caller left the meeting (NOT_PRESENT)", body = super::super::routes::dto::ErrorEnvelope),
        (status = 404, description = "No such meeting among the caller's", body = super::super::routes::dto::ErrorEnvelope),
        (status = 409, description = "The meeting has ended (MEETING_ENDED)", body = super::super::routes::dto::ErrorEnvelope),
    ))]
pub async fn live(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    verifier: web::Data<TokenVerifier>,
    path: web::Path<String>,
    query: web::Query<AccessTokenQuery>,
) -> Result<HttpResponse, ApiError> {
    let token = bearer_token(&req)
        .map(str::to_owned)
        .or_else(|| query.into_inner().access_token)
        .ok_or_else(|| ApiError::Unauthenticated("Missing bearer token".to_owned()))?;
    let user: AuthUser = verifier.verify(&token).await.map_err(ApiError::from)?;
    let (meeting, me) = membership(&state, meeting_id(&path)?, &user).await?;
    super::super::routes::meetings::ended_guard(&meeting)?;
    if !me.is_present() {
        return Err(ApiError::coded(
            StatusCode::FORBIDDEN,
            "NOT_PRESENT",
            "Join the meeting again to go live",
        ));
    }
    if meeting.status == "scheduled" {
        let id = meeting.id;
        state
            .db
            .run(move |conn| db::meetings::go_live(conn, id))
            .await?;
    }
    let (response, session, stream) = actix_ws::handle(&req, payload)
        .map_err(|_| ApiError::BadRequest("Expected a WebSocket upgrade".to_owned()))?;
    let hub = state.live.clone();
    let (socket_id, outbound) = hub.register(meeting.id, &user.subject, user.session_id.clone());
    let ping_every = state.settings.live_ping_interval();
    actix_web::rt::spawn(serve_socket(
        hub,
        meeting.id,
        socket_id,
        user.subject,
        session,
        stream.max_frame_size(MAX_FRAME_BYTES),
        outbound,
        ping_every,
    ));
    Ok(response)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one socket's whole context, passed once"
)]
async fn serve_socket(
    hub: std::sync::Arc<Hub>,
    meeting: Uuid,
    socket_id: u64,
    subject: String,
    mut session: Session,
    mut stream: MessageStream,
    mut outbound: mpsc::Receiver<Outbound>,
    ping_every: Duration,
) {
    let mut heartbeat = tokio::time::interval(ping_every);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    let mut close_with: Option<CloseReason> = None;
    if session.text(r#"{"type":"ready"}"#).await.is_err() {
        hub.unregister(meeting, socket_id);
        return;
    }
    loop {
        tokio::select! {
            incoming = stream.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    let reply = handle_frame(&hub, meeting, &subject, &text).await;
                    if let Some(reply) = reply {
                        if session.text(reply).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Ping(bytes))) => {
                    last_heard = Instant::now();
                    if session.pong(&bytes).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Pong(_))) => last_heard = Instant::now(),
                Some(Ok(Message::Binary(_))) => {
                    if session.text(r#"{"type":"error","message":"binary frames are not used"}"#).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "live socket protocol error");
                    close_with = Some(CloseReason {
                        code: CloseCode::Protocol,
                        description: Some("protocol error".to_owned()),
                    });
                    break;
                }
                Some(Ok(_)) => {}
            },
            frame = outbound.recv() => match frame {
                Some(Outbound::Text(text)) => {
                    if session.text(text.as_ref()).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close { policy, reason }) => {
                    close_with = Some(CloseReason {
                        code: if policy { CloseCode::Policy } else { CloseCode::Normal },
                        description: Some(reason.to_owned()),
                    });
                    break;
                }
                // Dropped by the hub (a slow socket).
                None => {
                    close_with = Some(CloseReason {
                        code: CloseCode::Again,
                        description: Some("too slow; reconnect".to_owned()),
                    });
                    break;
                }
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > ping_every * 2 {
                    close_with = Some(CloseReason {
                        code: CloseCode::Away,
                        description: Some("no answer to pings".to_owned()),
                    });
                    break;
                }
                if session.ping(b"").await.is_err() {
                    break;
                }
            }
        }
    }
    hub.unregister(meeting, socket_id);
    let _ = session.close(close_with).await;
}

/// Acts on one client frame; returns a reply for the client, if any.
async fn handle_frame(hub: &Hub, meeting: Uuid, subject: &str, text: &str) -> Option<String> {
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(ClientFrame::Signal { to, payload }) => {
            if to.is_empty() || to.len() > 128 {
                return Some(error_frame("`to` must be a participant's user id"));
            }
            hub.publish(
                meeting,
                &Event::Signal {
                    from: subject.to_owned(),
                    to,
                    payload,
                },
            )
            .await;
            None
        }
        Ok(ClientFrame::Ping) => Some(r#"{"type":"pong"}"#.to_owned()),
        Err(_) => Some(error_frame(
            "expected {\"type\":\"signal\",\"to\",\"payload\"} or {\"type\":\"ping\"}",
        )),
    }
}

fn error_frame(message: &str) -> String {
    json!({"type": "error", "message": message}).to_string()
}
