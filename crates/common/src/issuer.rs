//! The names services store beside a subject: which issuer signed the token.
//! A subject is only unique together with its issuer, so every owner column is
//! `(issuer, subject)`.

/// This project's auth service.
pub const FIRST_PARTY: &str = "reelstack";
/// Clerk (`CLERK_ISSUER`).
pub const CLERK: &str = "clerk";
