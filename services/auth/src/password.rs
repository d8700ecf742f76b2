//! Argon2id hashing on a bounded set of blocking threads. Each worker reuses a
//! preallocated memory buffer instead of allocating (and page-faulting) 19 MiB per
//! hash, which is most of the gap between a naive build and a tuned one.

use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use common::ApiError;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;

pub struct Passwords {
    params: Params,
    permits: Arc<Semaphore>,
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
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
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        let params = Params::new(memory_kib, iterations, parallelism, Some(OUTPUT_LEN))
            .map_err(|e| anyhow::anyhow!("invalid Argon2 parameters: {e}"))?;
        let mut passwords = Self {
            params,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            buffers: Arc::new(Mutex::new(Vec::new())),
            dummy_hash: String::new(),
        };
        passwords.dummy_hash = hash_blocking(
            &passwords.params,
            b"reelstack-dummy-password",
            &passwords.buffers,
        )
        .map_err(|e| anyhow::anyhow!("dummy hash failed: {e}"))?;
        Ok(passwords)
    }

    pub async fn hash(&self, password: SecretString) -> Result<String, ApiError> {
        let params = self.params.clone();
        let buffers = self.buffers.clone();
        self.blocking(move || hash_blocking(&params, password.expose_secret().as_bytes(), &buffers))
            .await
    }

    pub async fn verify(
        &self,
        stored: &str,
        password: SecretString,
    ) -> Result<Verification, ApiError> {
        let params = self.params.clone();
        let buffers = self.buffers.clone();
        let stored = stored.to_owned();
        self.blocking(move || {
            verify_blocking(
                &params,
                &stored,
                password.expose_secret().as_bytes(),
                &buffers,
            )
        })
        .await
    }

    /// Spends the time of one verification, for unknown accounts (no timing oracle).
    pub async fn verify_dummy(&self, password: SecretString) -> Result<(), ApiError> {
        let dummy = self.dummy_hash.clone();
        self.verify(&dummy, password).await.map(|_| ())
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Unavailable("Hashing pool closed".to_owned()))?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _entered = span.enter();
            f()
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("hashing task failed")))?
    }
}

fn with_buffer<T>(
    params: &Params,
    buffers: &Mutex<Vec<Vec<Block>>>,
    f: impl FnOnce(&mut [Block]) -> T,
) -> T {
    let blocks = params.block_count();
    let mut buffer = buffers
        .lock()
        .ok()
        .and_then(|mut pool| pool.pop())
        .filter(|b| b.len() == blocks)
        .unwrap_or_else(|| vec![Block::default(); blocks]);
    let out = f(&mut buffer);
    if let Ok(mut pool) = buffers.lock() {
        pool.push(buffer);
    }
    out
}

fn hash_blocking(
    params: &Params,
    password: &[u8],
    buffers: &Mutex<Vec<Vec<Block>>>,
) -> Result<String, ApiError> {
    let mut salt = [0u8; SALT_LEN];
    rand::thread_rng().fill_bytes(&mut salt);
    let mut out = [0u8; OUTPUT_LEN];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_buffer(params, buffers, |memory| {
        argon.hash_password_into_with_memory(password, &salt, &mut out, memory)
    })
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

fn verify_blocking(
    current: &Params,
    stored: &str,
    password: &[u8],
    buffers: &Mutex<Vec<Vec<Block>>>,
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
    let result = if params.block_count() == current.block_count() {
        with_buffer(current, buffers, |memory| {
            argon.hash_password_into_with_memory(password, salt_bytes, &mut out, memory)
        })
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
