//! Names, avatars and bios from the directory (meeting-user-sync's
//! `POST /internal/users/batch`): one call per page for what this replica does
//! not hold yet, cached here and dropped when the directory announces a change.
//! A directory that fails is skipped for a few seconds; lists then answer with
//! `name: null` rather than an error.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::client::{ClientOptions, ServiceClient};
use common::events::{parse_profile_changed, PROFILE_CHANGED_CHANNEL};
use common::redis_conn::RedisHandle;
use common::retry::Breaker;
use common::tasks::Tasks;
use moka::sync::Cache;
use serde::{Deserialize, Serialize};

use crate::config::SocialSettings;
use crate::domain::Person;

/// How many subjects one directory call asks for (the directory's limit).
const BATCH: usize = 100;
/// Subjects the directory does not know are asked again after this long (a
/// profile created meanwhile is also announced on the channel).
const UNKNOWN_TTL: Duration = Duration::from_secs(10);
/// After a failed call, lists skip the directory this long.
const SKIP_AFTER_FAILURE: Duration = Duration::from_secs(5);
const CAPACITY: u64 = 200_000;

/// What the directory says of a person.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// The subject.
    pub id: String,
    pub issuer: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub bio: Option<String>,
}

impl Profile {
    pub fn person(&self) -> Person {
        Person {
            issuer: self.issuer.clone(),
            subject: self.id.clone(),
        }
    }
}

#[derive(Deserialize)]
struct Batch {
    items: Vec<Profile>,
}

#[derive(Serialize)]
struct BatchRequest<'a> {
    ids: &'a [String],
}

/// The profiles the directory holds for one subject (one per issuer; almost
/// always one or none).
type Entry = Arc<Vec<Profile>>;

struct EntryExpiry {
    known: Duration,
}

impl moka::Expiry<String, Entry> for EntryExpiry {
    fn expire_after_create(&self, _: &String, value: &Entry, _: Instant) -> Option<Duration> {
        Some(if value.is_empty() {
            UNKNOWN_TTL.min(self.known)
        } else {
            self.known
        })
    }
}

/// Display data for a page of people.
#[derive(Debug, Default)]
pub struct Profiles {
    by_person: HashMap<Person, Profile>,
}

impl Profiles {
    pub fn of(&self, person: &Person) -> Option<&Profile> {
        self.by_person.get(person)
    }
}

/// What the directory says of one subject.
pub enum Lookup {
    Known(Vec<Profile>),
    Unknown,
    /// The directory could not be asked.
    Unavailable,
}

pub struct Directory {
    client: Option<ServiceClient>,
    batch_url: String,
    entries: Cache<String, Entry>,
    breaker: Breaker,
}

impl Directory {
    pub fn from_settings(s: &SocialSettings) -> anyhow::Result<Self> {
        let timeout = Duration::from_millis(s.directory_timeout_ms.max(1));
        let client = match s.service_client() {
            Some((id, secret)) => Some(
                ServiceClient::new(&ClientOptions {
                    connect_timeout: timeout.min(Duration::from_secs(1)),
                    timeout,
                    retries: 0,
                })?
                .with_service_token(
                    format!(
                        "{}/internal/token",
                        s.auth_internal_url.trim_end_matches('/')
                    ),
                    id,
                    secret,
                ),
            ),
            None => {
                tracing::warn!(
                    "SERVICE_CLIENT_ID/SERVICE_CLIENT_SECRET unset: names and avatars stay null"
                );
                None
            }
        };
        Ok(Self {
            client,
            batch_url: format!(
                "{}/internal/users/batch",
                s.directory_url.trim_end_matches('/')
            ),
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .expire_after(EntryExpiry {
                    known: Duration::from_secs(s.directory_cache_secs.max(1)),
                })
                .build(),
            breaker: Breaker::new(SKIP_AFTER_FAILURE),
        })
    }

    /// Display data of `people`: what this replica holds, and one call per 100
    /// others. Whoever the directory could not be asked about is left out.
    pub async fn profiles<'a>(&self, people: impl IntoIterator<Item = &'a Person>) -> Profiles {
        let mut wanted: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        let mut found: Vec<Profile> = Vec::new();
        for person in people {
            if !seen.insert(person.subject.clone()) {
                continue;
            }
            match self.entries.get(&person.subject) {
                Some(entry) => found.extend(entry.iter().cloned()),
                None => wanted.push(person.subject.clone()),
            }
        }
        for chunk in wanted.chunks(BATCH) {
            if let Some(profiles) = self.fetch(chunk).await {
                found.extend(profiles);
            }
        }
        Profiles {
            by_person: found.into_iter().map(|p| (p.person(), p)).collect(),
        }
    }

    /// What the directory says of `subject`; `fresh` asks it even when this
    /// replica holds an answer that it does not know them.
    pub async fn lookup(&self, subject: &str, fresh: bool) -> Lookup {
        if let Some(entry) = self.entries.get(subject) {
            if !entry.is_empty() || !fresh {
                return Self::lookup_of(&entry);
            }
        }
        match self.fetch(&[subject.to_owned()]).await {
            Some(profiles) => Self::lookup_of(&profiles),
            None => Lookup::Unavailable,
        }
    }

    fn lookup_of(profiles: &[Profile]) -> Lookup {
        if profiles.is_empty() {
            Lookup::Unknown
        } else {
            Lookup::Known(profiles.to_vec())
        }
    }

    /// Asks the directory for `subjects` and caches every answer (unknown ones
    /// too); `None` when it could not be asked.
    async fn fetch(&self, subjects: &[String]) -> Option<Vec<Profile>> {
        let client = self.client.as_ref()?;
        if !self.breaker.allows() {
            return None;
        }
        let started = Instant::now();
        let answer: Result<Batch, _> = client
            .post_json(&self.batch_url, &BatchRequest { ids: subjects }, true)
            .await;
        metrics::histogram!("social_directory_call_seconds").record(started.elapsed());
        match answer {
            Ok(batch) => {
                let mut by_subject: HashMap<&str, Vec<Profile>> =
                    subjects.iter().map(|s| (s.as_str(), Vec::new())).collect();
                for profile in &batch.items {
                    if let Some(list) = by_subject.get_mut(profile.id.as_str()) {
                        list.push(profile.clone());
                    }
                }
                for (subject, profiles) in by_subject {
                    self.entries.insert(subject.to_owned(), Arc::new(profiles));
                }
                Some(batch.items)
            }
            Err(e) => {
                if self.breaker.trip() {
                    tracing::warn!(error = %e, "directory unavailable; names stay null for a while");
                }
                None
            }
        }
    }

    /// Drops profiles the directory says changed, for the life of the process;
    /// after a lost subscription it starts from an empty cache (changes may have
    /// been missed meanwhile).
    pub fn spawn_listener(self: &Arc<Self>, tasks: &mut Tasks, redis: RedisHandle) {
        let directory = self.clone();
        tasks.spawn("directory-channel", move || {
            let (directory, redis) = (directory.clone(), redis.clone());
            async move {
                common::redis_conn::follow(
                    &redis,
                    PROFILE_CHANGED_CHANNEL,
                    || {
                        directory.entries.invalidate_all();
                        async { Ok(()) }
                    },
                    |payload| {
                        if let Some((_, subject)) = parse_profile_changed(payload) {
                            directory.entries.invalidate(subject);
                        }
                    },
                )
                .await
            }
        });
    }
}
