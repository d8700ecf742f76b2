//! Argon2id hashing on dedicated worker threads. The workers run at a lower CPU
//! priority (nice ~9), so a login storm uses every idle core without stalling
//! request handling, and each keeps its 19 MiB memory buffer between hashes
//! (no allocation and page faults per hash) but drops it after 2 s idle, so an
//! idle service stays small.

use std::time::Duration;

use argon2::password_hash::{PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use common::ApiError;
use crossbeam_channel::{RecvTimeoutError, Sender, TrySendError};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;

const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;
/// A worker frees its memory buffer after this long without work.
const IDLE_RELEASE: Duration = Duration::from_secs(2);
/// Hashes waiting beyond this many are refused with 503 rather than queued.
const QUEUE_LIMIT: usize = 1024;
/// thread-priority's 0-99 scale; 25 maps to nice 9 under SCHED_OTHER.
const WORKER_PRIORITY: u8 = 25;

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

pub struct Passwords {
    params: Params,
    jobs: Sender<Job>,
    dummy_hash: String,
}

/// The result of checking a password against a stored hash.
pub struct Verification {
    pub matches: bool,
    /// The hash uses other parameters than the current ones and should be redone.
    pub needs_rehash: bool,
}

impl Passwords {
    pub fn new(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        workers: usize,
    ) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, Some(OUTPUT_LEN))
            .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let (jobs, queue) = crossbeam_channel::bounded::<Job>(QUEUE_LIMIT);
        for n in 0..workers.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || worker(queue))?;
        }
        let mut scratch = Vec::new();
        let dummy_hash = hash_with(&params, b"reelstack-dummy-password", &mut scratch)
            .map_err(|e| anyhow::anyhow!("dummy hash failed: {e}"))?;
        Ok(Self {
            params,
            jobs,
            dummy_hash,
        })
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, ApiError> {
        let params = self.params.clone();
        self.run(move |memory| hash_with(&params, password.expose_secret().as_bytes(), memory))
            .await
    }

    pub async fn verify(
        &self,
        stored: &str,
        password: SecretString,
    ) -> Result<Verification, ApiError> {
        let params = self.params.clone();
        let stored = stored.to_owned();
        self.run(move |memory| {
            verify_with(
                &params,
                &stored,
                password.expose_secret().as_bytes(),
                memory,
            )
        })
        .await
    }

    /// Spends the time of one verification, for unknown accounts (no timing oracle).
    pub async fn verify_dummy(&self, password: SecretString) -> Result<(), ApiError> {
        let dummy = self.dummy_hash.clone();
        self.verify(&dummy, password).await.map(|_| ())
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Vec<Block>) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = oneshot::channel();
        let span = tracing::Span::current();
        let job: Job = Box::new(move |memory| {
            let _entered = span.enter();
            let _ = tx.send(f(memory));
        });
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => ApiError::Unavailable(
                "Too many password checks in progress, retry later".to_owned(),
            ),
            TrySendError::Disconnected(_) => ApiError::internal("hashing workers stopped"),
        })?;
        rx.await
            .map_err(|_| ApiError::internal("hashing worker dropped the job"))?
    }
}

fn worker(queue: crossbeam_channel::Receiver<Job>) {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    if let Ok(value) = ThreadPriorityValue::try_from(WORKER_PRIORITY) {
        if let Err(e) = set_current_thread_priority(ThreadPriority::Crossplatform(value)) {
            tracing::warn!(error = ?e, "hashing thread keeps normal priority");
        }
    }
    let mut memory: Vec<Block> = Vec::new();
    loop {
        match queue.recv_timeout(IDLE_RELEASE) {
            Ok(job) => job(&mut memory),
            Err(RecvTimeoutError::Timeout) => memory = Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Capacity reserved for every buffer. glibc serves allocations above 32 MiB (the
/// ceiling of its dynamic mmap threshold) with their own mapping and unmaps them on
/// free, without raising the threshold. A 19 MiB buffer, once freed, would instead
/// raise it and later buffers would land in thread arenas that never shrink. Only
/// the pages Argon2 touches (19 MiB) become resident.
const RESERVED_BYTES: usize = 33 * 1024 * 1024;

/// The buffer sized for `params`, allocated on first use.
fn memory_for<'a>(params: &Params, memory: &'a mut Vec<Block>) -> &'a mut [Block] {
    let blocks = params.block_count();
    if memory.len() != blocks {
        let mut fresh = Vec::with_capacity(blocks.max(RESERVED_BYTES / Block::SIZE));
        fresh.resize(blocks, Block::default());
        *memory = fresh;
    }
    memory
}

fn hash_with(
    params: &Params,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<String, ApiError> {
    let mut salt = [0u8; SALT_LEN];
    rand::thread_rng().fill_bytes(&mut salt);
    let mut out = [0u8; OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon
        .hash_password_into_with_memory(password, &salt, &mut out, memory_for(params, memory))
        .map_err(|e| ApiError::internal(format!("argon2 failed: {e}")))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    ))
}

fn verify_with(
    current: &Params,
    stored: &str,
    password: &[u8],
    memory: &mut Vec<Block>,
) -> Result<Verification, ApiError> {
    let parsed = PasswordHash::new(stored)
        .map_err(|e| ApiError::internal(format!("stored hash unreadable: {e}")))?;
    let algorithm = Algorithm::try_from(parsed.algorithm)
        .map_err(|e| ApiError::internal(format!("stored hash algorithm: {e}")))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| ApiError::internal(format!("stored hash version: {e}")))?
        .unwrap_or(Version::V0x13);
    let params = Params::try_from(&parsed)
        .map_err(|e| ApiError::internal(format!("stored hash params: {e}")))?;
    let expected = parsed
        .hash
        .ok_or_else(|| ApiError::internal("stored hash has no output"))?;
    let salt: Salt<'_> = parsed
        .salt
        .ok_or_else(|| ApiError::internal("stored hash has no salt"))?;
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| ApiError::internal(format!("stored salt: {e}")))?;
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params.clone());
    // Hashes with other parameters (before an upgrade) get a buffer of their own.
    let result = if params.block_count() == current.block_count() {
        argon.hash_password_into_with_memory(
            password,
            salt_bytes,
            &mut out,
            memory_for(current, memory),
        )
    } else {
        argon.hash_password_into(password, salt_bytes, &mut out)
    };
    result.map_err(|e| ApiError::internal(format!("argon2 failed: {e}")))?;
    let computed = argon2::password_hash::Output::new(&out)
        .map_err(|e| ApiError::internal(format!("output: {e}")))?;
    Ok(Verification {
        // `Output`'s equality is constant-time.
        matches: computed == expected,
        needs_rehash: algorithm != Algorithm::Argon2id
            || version != Version::V0x13
            || params.m_cost() != current.m_cost()
            || params.t_cost() != current.t_cost()
            || params.p_cost() != current.p_cost(),
    })
}

/// Mean milliseconds of one hash at the given parameters, measured two ways: as
/// this service hashes (reused memory) and the plain `PasswordHasher` way (a fresh
/// allocation per hash). Used by `auth hash-bench` for the benchmark report.
pub fn bench_single_hash(
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    rounds: u32,
) -> anyhow::Result<(f64, f64)> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = Params::new(memory_kib, iterations, parallelism, Some(OUTPUT_LEN))
        .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
    let mut memory = Vec::new();
    let rounds = rounds.max(1);
    hash_with(&params, b"warm-up", &mut memory).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Median of five batches: this machine's speed drifts between seconds.
    let batch = rounds.div_ceil(5).max(1);
    let mut batches = Vec::new();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        for _ in 0..batch {
            hash_with(&params, b"correct horse battery staple", &mut memory)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        batches.push(started.elapsed().as_secs_f64() * 1000.0 / f64::from(batch));
    }
    batches.sort_by(f64::total_cmp);
    let reused = batches[2];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::generate(&mut rand::thread_rng());
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        argon
            .hash_password(b"correct horse battery staple", &salt)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let fresh = started.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds);
    Ok((reused, fresh))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[tokio::test]
    async fn hashes_verify_and_use_the_owasp_parameters() {
        let passwords = Passwords::new(19_456, 2, 1, 2).unwrap();
        let hash = passwords
            .hash(secret("correct horse battery staple"))
            .await
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let ok = passwords
            .verify(&hash, secret("correct horse battery staple"))
            .await
            .unwrap();
        assert!(ok.matches && !ok.needs_rehash);
        let bad = passwords.verify(&hash, secret("wrong")).await.unwrap();
        assert!(!bad.matches);
    }

    #[tokio::test]
    async fn hashes_from_the_reference_implementation_verify_and_older_params_need_rehash() {
        let passwords = Passwords::new(19_456, 2, 1, 1).unwrap();
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 1, 1, None).unwrap(),
        );
        let salt = argon2::password_hash::SaltString::generate(&mut rand::thread_rng());
        let stored = old
            .hash_password(b"hunter2 but longer", &salt)
            .unwrap()
            .to_string();
        let result = passwords
            .verify(&stored, secret("hunter2 but longer"))
            .await
            .unwrap();
        assert!(result.matches);
        assert!(result.needs_rehash);
    }
}
