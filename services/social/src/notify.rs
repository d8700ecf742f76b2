//! Notifications as they happen: after the transaction that recorded one, its id
//! goes to every replica (Redis pub/sub; in-process without Redis), and each
//! replica hands it to the open streams of its recipient, which read it from
//! PostgreSQL and send it as a server-sent event.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::redis_conn::RedisHandle;
use common::tasks::Tasks;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::domain::Person;

/// A notification to announce once its transaction has committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub recipient: Person,
    pub id: Uuid,
}

/// Notifications a stream may hold before it is closed as too slow (the client
/// reconnects and catches up with `Last-Event-ID`).
const STREAM_BACKLOG: usize = 256;

type Streams = HashMap<Person, Vec<mpsc::Sender<Uuid>>>;

pub struct Notifier {
    redis: Option<RedisHandle>,
    channel: String,
    streams: Mutex<Streams>,
}

fn message(notice: &Notice) -> String {
    format!(
        "{}\n{}\n{}",
        notice.recipient.issuer, notice.recipient.subject, notice.id
    )
}

fn parse(message: &str) -> Option<Notice> {
    let mut parts = message.split('\n');
    let (issuer, subject, id) = (parts.next()?, parts.next()?, parts.next()?);
    Some(Notice {
        recipient: Person {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
        },
        id: Uuid::parse_str(id).ok()?,
    })
}

impl Notice {
    /// The notice of what `db::notifications::record` answered, if anything changed.
    pub fn of(recipient: &Person, recorded: Option<Uuid>) -> Option<Self> {
        recorded.map(|id| Self {
            recipient: recipient.clone(),
            id,
        })
    }
}

impl Notifier {
    pub fn new(redis: Option<RedisHandle>, prefix: &str) -> Self {
        Self {
            redis,
            channel: format!("{prefix}:notifications"),
            streams: Mutex::new(HashMap::new()),
        }
    }

    fn streams(&self) -> std::sync::MutexGuard<'_, Streams> {
        self.streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Announces committed notifications to every replica.
    pub async fn announce(&self, notices: &[Notice]) {
        for notice in notices {
            let Some(redis) = &self.redis else {
                self.deliver(notice);
                continue;
            };
            let mut conn = redis.conn.clone();
            let published = tokio::time::timeout(
                Duration::from_millis(500),
                redis::cmd("PUBLISH")
                    .arg(&self.channel)
                    .arg(message(notice))
                    .query_async::<i64>(&mut conn),
            )
            .await;
            if !matches!(published, Ok(Ok(_))) {
                // This replica's streams still get it; others catch up on reconnect.
                tracing::warn!("notification not published to Redis; delivered here only");
                self.deliver(notice);
            }
        }
    }

    /// Hands a notification to this replica's streams of its recipient.
    fn deliver(&self, notice: &Notice) {
        let mut streams = self.streams();
        if let Some(senders) = streams.get_mut(&notice.recipient) {
            // A full stream is dropped: its client is too slow, and catches up.
            senders.retain(|s| s.try_send(notice.id).is_ok());
            if senders.is_empty() {
                streams.remove(&notice.recipient);
            }
        }
    }

    /// A stream of the ids of `person`'s notifications from now on.
    pub fn subscribe(&self, person: &Person) -> mpsc::Receiver<Uuid> {
        let (tx, rx) = mpsc::channel(STREAM_BACKLOG);
        self.streams().entry(person.clone()).or_default().push(tx);
        rx
    }

    /// Open streams on this replica, for `/metrics`-style checks and tests.
    pub fn open_streams(&self) -> usize {
        self.streams().values().map(Vec::len).sum()
    }

    /// Delivers what any replica announces, for the life of the process.
    pub fn spawn_listener(self: &Arc<Self>, tasks: &mut Tasks, redis: RedisHandle) {
        let notifier = self.clone();
        tasks.spawn("notification-channel", move || {
            let (notifier, redis) = (notifier.clone(), redis.clone());
            async move {
                common::redis_conn::follow(
                    &redis,
                    &notifier.channel,
                    || async { Ok(()) },
                    |payload| {
                        if let Some(notice) = parse(payload) {
                            notifier.deliver(&notice);
                        }
                    },
                )
                .await
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let notice = Notice {
            recipient: Person {
                issuer: "reelstack".into(),
                subject: "0196".into(),
            },
            id: Uuid::now_v7(),
        };
        assert_eq!(parse(&message(&notice)), Some(notice));
        assert_eq!(parse("x"), None);
    }

    #[test]
    fn streams_get_their_recipients_notices_only() {
        let notifier = Notifier::new(None, "t");
        let me = Person {
            issuer: "reelstack".into(),
            subject: "me".into(),
        };
        let other = Person {
            subject: "other".into(),
            ..me.clone()
        };
        let mut rx = notifier.subscribe(&me);
        let id = Uuid::now_v7();
        notifier.deliver(&Notice {
            recipient: other,
            id: Uuid::now_v7(),
        });
        notifier.deliver(&Notice {
            recipient: me.clone(),
            id,
        });
        assert_eq!(rx.try_recv().ok(), Some(id));
        assert!(rx.try_recv().is_err());
        drop(rx);
        notifier.deliver(&Notice { recipient: me, id });
        assert_eq!(notifier.open_streams(), 0, "closed streams are forgotten");
    }
}
