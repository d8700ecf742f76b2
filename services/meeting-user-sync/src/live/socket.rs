//! `GET /api/meetings/{id}/live`: the WebSocket of one participant connection.
//!
//! The access token comes in `Authorization: Bearer` or, from browsers, as the
//! subprotocol pair `Sec-WebSocket-Protocol: bearer, <token>` (the server answers
//! with `bearer`); never in the URL, where proxies would log it.
//!
//! Server frames are the [`super::Event`]s plus `{"type":"ready"}` once the socket
//! is registered, `{"type":"token.expiring","expiresAt"}` 30 s before the token's
//! `exp`, `{"type":"authenticated","expiresAt"}` after a renewal, and
//! `{"type":"error","message"}` for a frame it cannot use. Client frames:
//! `{"type":"signal","to":"<userId>","toIssuer"?,"payload":{…}}` (relayed to that
//! present participant only, rate-limited per socket), `{"type":"auth","token"}`
//! (a newer token of the same user) and `{"type":"ping"}` (answered
//! `{"type":"pong"}`). Idle sockets are pinged; one that answers nothing for two
//! intervals is closed. Close codes: 1000 meeting ended or left, 1008 removed or
//! session revoked, 4001 token expired.

use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{CloseCode, CloseReason, Message, MessageStream, Session};
use common::tokens::{bearer_token, AuthUser, TokenVerifier};
use common::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{CloseWith, Event, Outbound, SocketAuth};
use crate::db;
use crate::db::meetings::UserRef;
use crate::meetings::{ended_guard, meeting_id, membership, require_present, user_ref};
use crate::state::AppState;

/// The largest frame a client may send (signaling payloads are small).
const MAX_FRAME_BYTES: usize = 64 * 1024;
/// The subprotocol that carries the token, and the one the server answers with.
const BEARER_PROTOCOL: &str = "bearer";
/// How long before the token's `exp` the client is told to send a newer one.
const EXPIRY_NOTICE: i64 = 30;
/// The close code of a socket whose token expired.
const TOKEN_EXPIRED: u16 = 4001;

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum ClientFrame {
    Signal {
        to: String,
        #[serde(default, rename = "toIssuer")]
        to_issuer: Option<String>,
        payload: Value,
    },
    Auth {
        token: String,
    },
    Ping,
}

/// The token of `Sec-WebSocket-Protocol: bearer, <token>`.
fn protocol_token(req: &HttpRequest) -> Option<String> {
    let offered: Vec<String> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_owned())
        .collect();
    let at = offered.iter().position(|p| p == BEARER_PROTOCOL)?;
    offered.get(at + 1).filter(|t| !t.is_empty()).cloned()
}

/// A token bucket: `rate` frames a second, bursts of `burst`.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    refilled: Instant,
}

impl Bucket {
    fn new(rate: u32) -> Self {
        let rate = f64::from(rate.max(1));
        Self {
            tokens: rate * 2.0,
            rate,
            burst: rate * 2.0,
            refilled: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[utoipa::path(get, path = "/api/meetings/{id}/live", tag = "live",
    params(
        ("id" = Uuid, Path, description = "Meeting id"),
        ("Sec-WebSocket-Protocol" = Option<String>, Header, description = "`bearer, <access token>`, for clients that cannot set `Authorization` on a WebSocket (browsers); the server selects `bearer`"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 101, description = "Switched to a WebSocket: server frames `ready`, `participant.joined`, `participant.left`, `message.created`, `meeting.ended`, `signal`, `token.expiring`, `authenticated`, `error`; client frames `signal {to, toIssuer?, payload}`, `auth {token}` and `ping`"),
        (status = 400, description = "Not a WebSocket upgrade", body = crate::dto::ErrorEnvelope),
        (status = 403, description = "The caller left the meeting (NOT_PRESENT)", body = crate::dto::ErrorEnvelope),
        (status = 404, description = "No such meeting among the caller's", body = crate::dto::ErrorEnvelope),
        (status = 409, description = "The meeting has ended (MEETING_ENDED)", body = crate::dto::ErrorEnvelope),
    ))]
pub async fn live(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    verifier: web::Data<TokenVerifier>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let from_protocol = protocol_token(&req);
    let token = bearer_token(&req)
        .map(str::to_owned)
        .or_else(|| from_protocol.clone())
        .ok_or_else(|| ApiError::Unauthenticated("Missing bearer token".to_owned()))?;
    let user: AuthUser = verifier.verify(&token).await.map_err(ApiError::from)?;
    let (meeting, me) = membership(&state, meeting_id(&path)?, &user).await?;
    ended_guard(&meeting)?;
    require_present(&me, "go live")?;
    if meeting.status == "scheduled" {
        let id = meeting.id;
        state
            .db
            .run(move |conn| db::meetings::go_live(conn, id))
            .await?;
    }
    let protocols: &[&str] = if from_protocol.is_some() {
        &[BEARER_PROTOCOL]
    } else {
        &[]
    };
    let (response, session, stream) = actix_ws::handle_with_protocols(&req, payload, protocols)
        .map_err(|_| ApiError::BadRequest("Expected a WebSocket upgrade".to_owned()))?;
    let auth = SocketAuth {
        user: user_ref(&user),
        session_id: user.session_id.clone(),
        expires_at: user.expires_at,
    };
    let (socket_id, outbound) = state.live.register(meeting.id, auth.clone());
    actix_web::rt::spawn(serve_socket(
        Connection {
            state: state.clone(),
            verifier: verifier.clone(),
            meeting: meeting.id,
            socket_id,
            auth,
            signals: Bucket::new(state.settings.live_signals_per_sec),
        },
        session,
        stream.max_frame_size(MAX_FRAME_BYTES),
        outbound,
    ));
    Ok(response)
}

/// One socket's context.
struct Connection {
    state: web::Data<AppState>,
    verifier: web::Data<TokenVerifier>,
    meeting: Uuid,
    socket_id: u64,
    auth: SocketAuth,
    signals: Bucket,
}

fn close_reason(with: CloseWith) -> CloseReason {
    match with {
        CloseWith::Normal(reason) => CloseReason {
            code: CloseCode::Normal,
            description: Some(reason.to_owned()),
        },
        CloseWith::Policy(reason) => CloseReason {
            code: CloseCode::Policy,
            description: Some(reason.to_owned()),
        },
        CloseWith::TokenExpired => CloseReason {
            code: CloseCode::Other(TOKEN_EXPIRED),
            description: Some("token expired; reconnect with a new token".to_owned()),
        },
    }
}

/// When to tell the client its token is about to expire.
fn notice_at(expires_at: i64) -> tokio::time::Instant {
    let secs = expires_at - EXPIRY_NOTICE - chrono::Utc::now().timestamp();
    tokio::time::Instant::now() + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

async fn serve_socket(
    mut conn: Connection,
    mut session: Session,
    mut stream: MessageStream,
    mut outbound: mpsc::Receiver<Outbound>,
) {
    let hub = conn.state.live.clone();
    let ping_every = conn.state.settings.live_ping_interval();
    let mut heartbeat = tokio::time::interval(ping_every);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    let mut close_with: Option<CloseReason> = None;
    let expiry = tokio::time::sleep_until(notice_at(conn.auth.expires_at));
    tokio::pin!(expiry);
    let mut noticed = false;
    if session.text(r#"{"type":"ready"}"#).await.is_err() {
        hub.unregister(conn.meeting, conn.socket_id);
        return;
    }
    loop {
        tokio::select! {
            incoming = stream.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    last_heard = Instant::now();
                    let renewed_before = conn.auth.expires_at;
                    let reply = handle_frame(&mut conn, &text).await;
                    if conn.auth.expires_at != renewed_before {
                        expiry.as_mut().reset(notice_at(conn.auth.expires_at));
                        noticed = false;
                    }
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
                Some(Outbound::Close(with)) => {
                    close_with = Some(close_reason(with));
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
            () = &mut expiry, if !noticed => {
                noticed = true;
                let notice = json!({"type": "token.expiring", "expiresAt": conn.auth.expires_at});
                if session.text(notice.to_string()).await.is_err() {
                    break;
                }
            }
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
    hub.unregister(conn.meeting, conn.socket_id);
    let _ = session.close(close_with).await;
}

/// Acts on one client frame; returns a reply for the client, if any.
async fn handle_frame(conn: &mut Connection, text: &str) -> Option<String> {
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(ClientFrame::Signal {
            to,
            to_issuer,
            payload,
        }) => {
            if to.is_empty() || to.len() > 128 {
                return Some(error_frame("`to` must be a participant's user id"));
            }
            if !conn.signals.take() {
                return Some(error_frame("too many signals; slow down"));
            }
            let target = match present_participant(conn, &to, to_issuer.as_deref()).await {
                Ok(Some(target)) => target,
                Ok(None) => return Some(error_frame("`to` is not present in this meeting")),
                Err(e) => {
                    tracing::warn!(error = %e, "presence lookup failed; signal dropped");
                    return Some(error_frame("the signal could not be relayed; retry"));
                }
            };
            conn.state
                .live
                .publish(
                    conn.meeting,
                    &Event::Signal {
                        from: conn.auth.user.subject.clone(),
                        to,
                        payload,
                    },
                    Some(&target),
                )
                .await;
            None
        }
        Ok(ClientFrame::Auth { token }) => match conn.verifier.verify(&token).await {
            Ok(user) => {
                let auth = SocketAuth {
                    user: user_ref(&user),
                    session_id: user.session_id.clone(),
                    expires_at: user.expires_at,
                };
                if conn
                    .state
                    .live
                    .reauthenticate(conn.meeting, conn.socket_id, &auth)
                {
                    conn.auth = auth;
                    Some(json!({"type": "authenticated", "expiresAt": user.expires_at}).to_string())
                } else {
                    Some(error_frame("the token is another user's"))
                }
            }
            Err(e) => Some(error_frame(&format!("token refused: {e}"))),
        },
        Ok(ClientFrame::Ping) => Some(r#"{"type":"pong"}"#.to_owned()),
        Err(_) => Some(error_frame(
            "expected {\"type\":\"signal\",\"to\",\"payload\"}, {\"type\":\"auth\",\"token\"} or {\"type\":\"ping\"}",
        )),
    }
}

/// The present participant a signal is for: from this replica's short-lived
/// presence cache, else the database.
async fn present_participant(
    conn: &Connection,
    to: &str,
    to_issuer: Option<&str>,
) -> Result<Option<UserRef>, ApiError> {
    let hub = &conn.state.live;
    let present = match hub.cached_presence(conn.meeting, to) {
        Some(present) => present,
        None => {
            let (meeting, subject) = (conn.meeting, to.to_owned());
            let found = conn
                .state
                .db
                .run(move |c| db::meetings::present_with_subject(c, meeting, &subject))
                .await?;
            hub.remember_presence(conn.meeting, to, found)
        }
    };
    let mut matching = present
        .iter()
        .filter(|u| to_issuer.is_none_or(|issuer| u.issuer == issuer));
    Ok(match (matching.next(), matching.next()) {
        (Some(one), None) => Some(one.clone()),
        // Two issuers use this subject: the client must name the issuer.
        _ => None,
    })
}

fn error_frame(message: &str) -> String {
    json!({"type": "error", "message": message}).to_string()
}
