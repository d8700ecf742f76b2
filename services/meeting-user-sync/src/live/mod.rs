//! Live meetings: one WebSocket per participant connection. Events are published
//! on one Redis channel that every replica subscribes to, and each replica
//! delivers them to its own sockets; without Redis, delivery stays in-process
//! (one replica only). Sockets belong to a user as tokens name them, `(issuer,
//! subject)`. A `signal` frame goes to one present participant only; leaving,
//! removal, the meeting's end, a revoked session and an expired token (unless the
//! client authenticated again) close the sockets concerned.

pub mod socket;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::redis_conn::RedisHandle;
use common::tasks::Tasks;
use common::tokens::RevocationList;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::db::meetings::UserRef;
use crate::dto::{MessageDto, ParticipantDto};

pub const CHANNEL: &str = "reelstack:meetings:live";
/// Frames waiting for a slow socket before it is closed.
const SOCKET_QUEUE: usize = 64;
/// How long a replica trusts what it looked up about who is present.
const PRESENCE_TTL: Duration = Duration::from_secs(5);

/// What sockets are told. `type` names it on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "participant.joined")]
    ParticipantJoined { participant: ParticipantDto },
    #[serde(rename = "participant.left")]
    ParticipantLeft {
        #[serde(rename = "userId")]
        user_id: String,
        /// `left` or `removed`.
        reason: String,
    },
    #[serde(rename = "message.created")]
    MessageCreated { message: MessageDto },
    #[serde(rename = "meeting.ended")]
    MeetingEnded {
        /// `ended` or `deleted`.
        reason: String,
    },
    /// WebRTC signaling (offer, answer, ICE candidate), relayed as is.
    #[serde(rename = "signal")]
    Signal {
        from: String,
        to: String,
        payload: Value,
    },
}

/// An event on the Redis channel: the meeting it belongs to, the event, and the
/// user it concerns (a signal's addressee; who left or was removed).
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    meeting: Uuid,
    event: Event,
    #[serde(default)]
    target: Option<UserRef>,
}

/// What a socket task is asked to do.
#[derive(Debug, Clone)]
pub enum Outbound {
    Text(Arc<str>),
    Close(CloseWith),
}

/// Why the server closes a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseWith {
    /// 1000: the meeting ended, or the user left.
    Normal(&'static str),
    /// 1008: removed, or the session was revoked.
    Policy(&'static str),
    /// 4001: the token that opened the socket expired and no new one came.
    TokenExpired,
}

struct LocalSocket {
    id: u64,
    user: UserRef,
    session_id: Option<String>,
    /// `exp` of the latest token the socket authenticated with.
    expires_at: i64,
    tx: mpsc::Sender<Outbound>,
}

/// Who a socket authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketAuth {
    pub user: UserRef,
    pub session_id: Option<String>,
    pub expires_at: i64,
}

pub struct Hub {
    publisher: Option<RedisHandle>,
    sockets: Mutex<HashMap<Uuid, Vec<LocalSocket>>>,
    next_id: AtomicU64,
    /// Present participants by (meeting, subject), looked up for signals.
    presence: moka::sync::Cache<(Uuid, String), Arc<Vec<UserRef>>>,
    /// Token leeway: a socket closes this long after its token's `exp`.
    leeway: i64,
}

impl Hub {
    pub fn new(redis: Option<RedisHandle>, leeway_secs: u64) -> Self {
        Self {
            publisher: redis,
            sockets: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            presence: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(PRESENCE_TTL)
                .build(),
            leeway: i64::try_from(leeway_secs).unwrap_or(0),
        }
    }

    fn sockets(&self) -> MutexGuard<'_, HashMap<Uuid, Vec<LocalSocket>>> {
        self.sockets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells every replica's sockets of `meeting` about `event`; `target` is the
    /// user it concerns (a signal's addressee, who left or was removed).
    pub async fn publish(&self, meeting: Uuid, event: &Event, target: Option<&UserRef>) {
        if let Some(redis) = &self.publisher {
            let envelope = Envelope {
                meeting,
                event: event.clone(),
                target: target.cloned(),
            };
            match serde_json::to_string(&envelope) {
                Ok(text) => {
                    let mut conn = redis.conn.clone();
                    let sent = tokio::time::timeout(
                        Duration::from_millis(500),
                        redis::cmd("PUBLISH")
                            .arg(CHANNEL)
                            .arg(text)
                            .query_async::<i64>(&mut conn),
                    )
                    .await;
                    match sent {
                        // Delivered to this replica too, through its subscription.
                        Ok(Ok(_)) => return,
                        Ok(Err(e)) => {
                            tracing::warn!(error = %e, "live event not published; delivering locally")
                        }
                        Err(_) => {
                            tracing::warn!("live event publish timed out; delivering locally")
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "live event not serializable"),
            }
        }
        self.deliver(meeting, event, target);
    }

    /// Delivers to this replica's sockets of `meeting`.
    pub fn deliver(&self, meeting: Uuid, event: &Event, target: Option<&UserRef>) {
        match event {
            Event::ParticipantJoined { participant } => {
                self.presence
                    .invalidate(&(meeting, participant.user_id.clone()));
            }
            Event::ParticipantLeft { user_id, .. } => {
                self.presence.invalidate(&(meeting, user_id.clone()));
            }
            _ => {}
        }
        let Ok(text) = serde_json::to_string(event) else {
            return;
        };
        let text: Arc<str> = Arc::from(text);
        let close = match event {
            Event::MeetingEnded { .. } => Some(CloseWith::Normal("meeting ended")),
            Event::ParticipantLeft { reason, .. } if reason == "removed" => {
                Some(CloseWith::Policy("removed from the meeting"))
            }
            Event::ParticipantLeft { .. } => Some(CloseWith::Normal("left the meeting")),
            _ => None,
        };
        let closes_everyone = matches!(event, Event::MeetingEnded { .. });
        let mut sockets = self.sockets();
        let Some(list) = sockets.get_mut(&meeting) else {
            return;
        };
        list.retain(|socket| {
            let concerned = target.is_some_and(|t| *t == socket.user);
            if matches!(event, Event::Signal { .. }) && !concerned {
                return true;
            }
            let mut keep = socket.tx.try_send(Outbound::Text(text.clone())).is_ok();
            if let Some(reason) = close {
                if closes_everyone || concerned {
                    let _ = socket.tx.try_send(Outbound::Close(reason));
                    keep = false;
                }
            }
            if !keep {
                metrics::counter!("live_sockets_dropped_total").increment(1);
            }
            keep
        });
        if list.is_empty() {
            sockets.remove(&meeting);
        }
    }

    /// What this replica last looked up about the present participants of
    /// `meeting` named `subject`; `None` when it does not know.
    pub fn cached_presence(&self, meeting: Uuid, subject: &str) -> Option<Arc<Vec<UserRef>>> {
        self.presence.get(&(meeting, subject.to_owned()))
    }

    pub fn remember_presence(
        &self,
        meeting: Uuid,
        subject: &str,
        present: Vec<UserRef>,
    ) -> Arc<Vec<UserRef>> {
        let present = Arc::new(present);
        self.presence
            .insert((meeting, subject.to_owned()), present.clone());
        present
    }

    /// A socket of `auth.user` in `meeting`; its frames arrive on the receiver.
    pub fn register(&self, meeting: Uuid, auth: SocketAuth) -> (u64, mpsc::Receiver<Outbound>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        self.sockets()
            .entry(meeting)
            .or_default()
            .push(LocalSocket {
                id,
                user: auth.user,
                session_id: auth.session_id,
                expires_at: auth.expires_at,
                tx,
            });
        metrics::gauge!("live_sockets").increment(1.0);
        (id, rx)
    }

    /// A socket authenticated again with a newer token (of the same user).
    pub fn reauthenticate(&self, meeting: Uuid, id: u64, auth: &SocketAuth) -> bool {
        let mut sockets = self.sockets();
        let Some(socket) = sockets
            .get_mut(&meeting)
            .and_then(|list| list.iter_mut().find(|s| s.id == id))
        else {
            return false;
        };
        if socket.user != auth.user {
            return false;
        }
        socket.session_id = auth.session_id.clone();
        socket.expires_at = auth.expires_at;
        true
    }

    pub fn unregister(&self, meeting: Uuid, id: u64) {
        let mut sockets = self.sockets();
        if let Some(list) = sockets.get_mut(&meeting) {
            list.retain(|s| s.id != id);
            if list.is_empty() {
                sockets.remove(&meeting);
            }
        }
        metrics::gauge!("live_sockets").decrement(1.0);
    }

    /// Sockets of `meeting` on this replica.
    pub fn connected(&self, meeting: Uuid) -> usize {
        self.sockets().get(&meeting).map_or(0, Vec::len)
    }

    /// Follows the Redis channel for the life of the process.
    pub fn spawn_listener(self: &Arc<Self>, tasks: &mut Tasks, redis: RedisHandle) {
        let hub = self.clone();
        tasks.spawn("live-channel", move || {
            let (hub, redis) = (hub.clone(), redis.clone());
            async move {
                common::redis_conn::follow(
                    &redis,
                    CHANNEL,
                    || async { Ok(()) },
                    |payload| match serde_json::from_str::<Envelope>(payload) {
                        Ok(envelope) => {
                            hub.deliver(envelope.meeting, &envelope.event, envelope.target.as_ref())
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable live event"),
                    },
                )
                .await
            }
        });
    }

    /// Every second: closes the sockets whose session was revoked (1008) or whose
    /// token expired without a newer one (4001).
    pub fn spawn_watch(self: &Arc<Self>, tasks: &mut Tasks, revocations: RevocationList) {
        let hub = self.clone();
        tasks.every("live-watch", Duration::from_secs(1), move || {
            let (hub, revocations) = (hub.clone(), revocations.clone());
            async move {
                hub.close_invalid(&revocations, chrono::Utc::now().timestamp());
            }
        });
    }

    fn close_invalid(&self, revocations: &RevocationList, now: i64) {
        let mut sockets = self.sockets();
        for list in sockets.values_mut() {
            list.retain(|socket| {
                let close = if socket
                    .session_id
                    .as_deref()
                    .is_some_and(|sid| revocations.contains(sid))
                {
                    Some(CloseWith::Policy("session revoked"))
                } else if socket.expires_at + self.leeway < now {
                    Some(CloseWith::TokenExpired)
                } else {
                    None
                };
                if let Some(reason) = close {
                    let _ = socket.tx.try_send(Outbound::Close(reason));
                }
                close.is_none()
            });
        }
        sockets.retain(|_, list| !list.is_empty());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(to: &str) -> Event {
        Event::Signal {
            from: "a".into(),
            to: to.into(),
            payload: serde_json::json!({"sdp": "x"}),
        }
    }

    fn user(issuer: &str, subject: &str) -> UserRef {
        UserRef {
            issuer: issuer.into(),
            subject: subject.into(),
        }
    }

    fn auth(user: &UserRef, expires_at: i64) -> SocketAuth {
        SocketAuth {
            user: user.clone(),
            session_id: Some(format!("sid-{}", user.subject)),
            expires_at,
        }
    }

    #[tokio::test]
    async fn signals_reach_only_their_addressee_and_removal_closes_one_socket() {
        let hub = Hub::new(None, 0);
        let meeting = Uuid::now_v7();
        let later = chrono::Utc::now().timestamp() + 600;
        let (alice_ref, bob_ref) = (user("reelstack", "alice"), user("reelstack", "bob"));
        // Same subject text, another issuer: another user.
        let other_bob = user("clerk", "bob");
        let (_, mut alice) = hub.register(meeting, auth(&alice_ref, later));
        let (_, mut bob) = hub.register(meeting, auth(&bob_ref, later));
        let (_, mut clerk_bob) = hub.register(meeting, auth(&other_bob, later));
        hub.publish(meeting, &signal("bob"), Some(&bob_ref)).await;
        assert!(matches!(bob.try_recv(), Ok(Outbound::Text(t)) if t.contains("\"signal\"")));
        assert!(alice.try_recv().is_err());
        assert!(clerk_bob.try_recv().is_err(), "keyed by issuer and subject");

        let left = Event::ParticipantLeft {
            user_id: "bob".into(),
            reason: "removed".into(),
        };
        hub.publish(meeting, &left, Some(&bob_ref)).await;
        assert!(matches!(alice.try_recv(), Ok(Outbound::Text(_))));
        assert!(alice.try_recv().is_err(), "alice stays");
        assert!(matches!(bob.try_recv(), Ok(Outbound::Text(_))));
        assert!(matches!(
            bob.try_recv(),
            Ok(Outbound::Close(CloseWith::Policy(_)))
        ));
        assert!(matches!(clerk_bob.try_recv(), Ok(Outbound::Text(_))));
        assert!(clerk_bob.try_recv().is_err(), "the other bob stays");
        assert_eq!(hub.connected(meeting), 2);

        hub.publish(
            meeting,
            &Event::MeetingEnded {
                reason: "ended".into(),
            },
            None,
        )
        .await;
        assert!(matches!(alice.try_recv(), Ok(Outbound::Text(t)) if t.contains("meeting.ended")));
        assert!(matches!(
            alice.try_recv(),
            Ok(Outbound::Close(CloseWith::Normal(_)))
        ));
        assert_eq!(hub.connected(meeting), 0);
    }

    #[tokio::test]
    async fn expired_tokens_close_their_sockets_unless_renewed() {
        let hub = Hub::new(None, 0);
        let meeting = Uuid::now_v7();
        let now = chrono::Utc::now().timestamp();
        let (a, b) = (user("clerk", "a"), user("clerk", "b"));
        let (_, mut stale) = hub.register(meeting, auth(&a, now + 10));
        let (renewed_id, mut renewed) = hub.register(meeting, auth(&b, now + 10));
        assert!(hub.reauthenticate(meeting, renewed_id, &auth(&b, now + 120)));
        assert!(
            !hub.reauthenticate(meeting, renewed_id, &auth(&a, now + 120)),
            "another user's token cannot take a socket over"
        );
        hub.close_invalid(&RevocationList::new(), now + 60);
        assert!(matches!(
            stale.try_recv(),
            Ok(Outbound::Close(CloseWith::TokenExpired))
        ));
        assert!(renewed.try_recv().is_err());
        assert_eq!(hub.connected(meeting), 1);
    }

    #[test]
    fn events_carry_their_type_on_the_wire() {
        let text = serde_json::to_string(&Event::ParticipantLeft {
            user_id: "u".into(),
            reason: "left".into(),
        })
        .unwrap();
        assert_eq!(
            text,
            r#"{"type":"participant.left","userId":"u","reason":"left"}"#
        );
    }
}
