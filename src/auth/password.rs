//! Password hashing with argon2id. Hashing runs on a blocking thread: it is slow on purpose.
//! At most [`MAX_CONCURRENT_HASHES`] run at once in a process: each takes 19 MiB and most of
//! a core, so a flood of sign-ups or logins (from many addresses) waits its turn instead
//! of taking the process's memory and the blocking pool.

use std::sync::OnceLock;

use tokio::sync::Semaphore;

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

/// argon2 computations in flight per process.
pub const MAX_CONCURRENT_HASHES: usize = 4;

fn hashing() -> &'static Semaphore {
    static SLOTS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_HASHES);
    &SLOTS
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    let _slot = hashing().acquire().await.context("password hashing is shut down")?;
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .context("password hashing task panicked")?
}

/// Verifies `password` against `stored`. With no stored hash (unknown e-mail) it verifies
/// against a fixed dummy hash, so that an unknown e-mail and a wrong password take the
/// same time and cannot be told apart.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    let _slot = hashing().acquire().await.context("password hashing is shut down")?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = match stored {
            Some(s) => s,
            None => dummy_hash().to_owned(),
        };
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored password hash: {e}"))?;
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(known && ok)
    })
    .await
    .context("password verification task panicked")?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"hookrelay-dummy-password-for-unknown-users")
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}
