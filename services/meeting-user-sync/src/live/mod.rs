//! Live meetings: one WebSocket per participant connection. Events are published
//! on one Redis channel that every replica subscribes to, and each replica
//! delivers them to its own sockets; without Redis, delivery stays in-process
//! (one replica only). A `signal` frame goes to one participant only; removal,
//! the meeting's end and a revoked session close the sockets concerned.

pub mod socket;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::redis_conn::RedisHandle;
use common::tokens::RevocationList;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::routes::dto::{MessageDto, ParticipantDto};

pub const CHANNEL: &str = "reelstack:meetings:live";
/// Frames waiting for a slow socket before it is closed.
const SOCKET_QUEUE: usize = 64;

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

/// An event on the Redis channel: the meeting it belongs to, and the event.
#[derive(Debug, Serialize, Deserialize)]
struct Envelope {
    meeting: Uuid,
    event: Event,
}

/// What a socket task is asked to do.
#[derive(Debug, Clone)]
pub enum Outbound {
    Text(Arc<str>),
    /// Close with a policy or normal code and a reason.
    Close {
        policy: bool,
        reason: &'static str,
    },
}

struct LocalSocket {
    id: u64,
    subject: String,
    session_id: Option<String>,
    tx: mpsc::Sender<Outbound>,
}

pub struct Hub {
    publisher: Option<RedisHandle>,
    sockets: Mutex<HashMap<Uuid, Vec<LocalSocket>>>,
    next_id: AtomicU64,
}

impl Hub {
    pub fn new(redis: Option<RedisHandle>) -> Self {
        Self {
            publisher: redis,
            sockets: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    fn sockets(&self) -> MutexGuard<'_, HashMap<Uuid, Vec<LocalSocket>>> {
        self.sockets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Tells every replica's sockets of `meeting` about `event`.
    pub async fn publish(&self, meeting: Uuid, event: &Event) {
        if let Some(redis) = &self.publisher {
            let envelope = Envelope {
                meeting,
                event: event.clone(),
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
        self.deliver(meeting, event);
    }

    /// Delivers to this replica's sockets of `meeting`.
    pub fn deliver(&self, meeting: Uuid, event: &Event) {
        let Ok(text) = serde_json::to_string(event) else {
            return;
        };
        let text: Arc<str> = Arc::from(text);
        let mut sockets = self.sockets();
        let Some(list) = sockets.get_mut(&meeting) else {
            return;
        };
        let close = match event {
            Event::MeetingEnded { .. } => Some((None, false, "meeting ended")),
            Event::ParticipantLeft { user_id, reason } if reason == "removed" => {
                Some((Some(user_id.as_str()), true, "removed from the meeting"))
            }
            _ => None,
        };
        list.retain(|socket| {
            if let Event::Signal { to, .. } = event {
                if socket.subject != *to {
                    return true;
                }
            }
            let mut keep = socket.tx.try_send(Outbound::Text(text.clone())).is_ok();
            if let Some((who, policy, reason)) = close {
                if who.is_none_or(|w| w == socket.subject) {
                    let _ = socket.tx.try_send(Outbound::Close { policy, reason });
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

    /// A socket of `subject` in `meeting`; its frames arrive on the receiver.
    pub fn register(
        &self,
        meeting: Uuid,
        subject: &str,
        session_id: Option<String>,
    ) -> (u64, mpsc::Receiver<Outbound>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SOCKET_QUEUE);
        self.sockets()
            .entry(meeting)
            .or_default()
            .push(LocalSocket {
                id,
                subject: subject.to_owned(),
                session_id,
                tx,
            });
        metrics::gauge!("live_sockets").increment(1.0);
        (id, rx)
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

    /// Follows the Redis channel for the life of the process, reconnecting after
    /// any loss.
    pub fn spawn_listener(self: &Arc<Self>, redis: RedisHandle) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = hub.listen(&redis).await {
                    tracing::warn!(error = %e, "live channel lost; resubscribing");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    }

    async fn listen(&self, redis: &RedisHandle) -> Result<(), redis::RedisError> {
        let mut pubsub = redis.client.get_async_pubsub().await?;
        pubsub.subscribe(CHANNEL).await?;
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let Ok(payload) = message.get_payload::<String>() else {
                continue;
            };
            match serde_json::from_str::<Envelope>(&payload) {
                Ok(envelope) => self.deliver(envelope.meeting, &envelope.event),
                Err(e) => tracing::warn!(error = %e, "unreadable live event"),
            }
        }
        Ok(())
    }

    /// Closes, every second, the sockets whose session was revoked.
    pub fn spawn_revocation_watch(
        self: &Arc<Self>,
        revocations: RevocationList,
    ) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let mut sockets = hub.sockets();
                for list in sockets.values_mut() {
                    list.retain(|socket| {
                        let revoked = socket
                            .session_id
                            .as_deref()
                            .is_some_and(|sid| revocations.contains(sid));
                        if revoked {
                            let _ = socket.tx.try_send(Outbound::Close {
                                policy: true,
                                reason: "session revoked",
                            });
                        }
                        !revoked
                    });
                }
                sockets.retain(|_, list| !list.is_empty());
            }
        })
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

    #[tokio::test]
    async fn signals_reach_only_their_addressee_and_removal_closes_one_socket() {
        let hub = Hub::new(None);
        let meeting = Uuid::now_v7();
        let (_, mut alice) = hub.register(meeting, "alice", None);
        let (_, mut bob) = hub.register(meeting, "bob", None);
        hub.publish(meeting, &signal("bob")).await;
        assert!(matches!(bob.try_recv(), Ok(Outbound::Text(t)) if t.contains("\"signal\"")));
        assert!(alice.try_recv().is_err());

        hub.publish(
            meeting,
            &Event::ParticipantLeft {
                user_id: "bob".into(),
                reason: "removed".into(),
            },
        )
        .await;
        assert!(matches!(alice.try_recv(), Ok(Outbound::Text(_))));
        assert!(alice.try_recv().is_err(), "alice stays");
        assert!(matches!(bob.try_recv(), Ok(Outbound::Text(_))));
        assert!(matches!(
            bob.try_recv(),
            Ok(Outbound::Close { policy: true, .. })
        ));
        assert_eq!(hub.connected(meeting), 1);

        hub.publish(
            meeting,
            &Event::MeetingEnded {
                reason: "ended".into(),
            },
        )
        .await;
        assert!(matches!(alice.try_recv(), Ok(Outbound::Text(t)) if t.contains("meeting.ended")));
        assert!(matches!(
            alice.try_recv(),
            Ok(Outbound::Close { policy: false, .. })
        ));
        assert_eq!(hub.connected(meeting), 0);
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
