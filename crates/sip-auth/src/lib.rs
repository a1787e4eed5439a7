//! HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760).
//!
//! - [`DigestClient`] answers 401 and 407 challenges: the strongest algorithm offered per
//!   realm (MD5, SHA-256, SHA-512-256, each with `-sess`), `qop` auth or auth-int, a
//!   nonce count per nonce, `stale=true`, userhash.
//! - [`DigestServer`] challenges with stateless nonces (a timestamp and an HMAC under a
//!   server secret) that expire, verifies credentials, refuses a nonce count used before,
//!   says `stale=true` for an expired nonce with otherwise good credentials, and writes
//!   Authentication-Info with `rspauth` and `nextnonce`.
//!
//! Nothing here does I/O or reads a clock: the time and the client nonces come in as
//! arguments.
//!
//! ```
//! use sip_auth::{Algorithm, DigestInput, Qop};
//!
//! // RFC 7616 §3.9.1.
//! let input = DigestInput {
//!     algorithm: Algorithm::Sha256,
//!     username: "Mufasa",
//!     realm: "http-auth@example.org",
//!     password: "Circle of Life",
//!     method: "GET",
//!     uri: "/dir/index.html",
//!     nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
//!     cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
//!     nc: 1,
//!     qop: Some(Qop::Auth),
//!     body: b"",
//! };
//! assert_eq!(input.response(), "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
//! ```

#![forbid(unsafe_code)]

mod client;
mod digest;
mod server;

pub use client::{DigestClient, MAX_CLIENT_NONCES};
pub use digest::{Algorithm, DigestChallenge, DigestCredentials, DigestInput, Qop, userhash};
pub use server::{DEFAULT_NONCE_LIFETIME, DigestServer, MAX_TRACKED_NONCES, Refusal, Verified};

/// Why a challenge or credentials could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Not the Digest scheme.
    #[error("not a Digest challenge or credentials")]
    NotDigest,
    /// A parameter the scheme needs is missing.
    #[error("no {0}")]
    Missing(&'static str),
    /// A parameter does not have the form it needs.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// An algorithm this crate does not implement.
    #[error("unknown digest algorithm {0}")]
    UnknownAlgorithm(String),
    /// A 401 or 407 carries no digest challenge this crate can answer.
    #[error("no digest challenge this side can answer")]
    NoUsableChallenge,
    /// The peer challenged again, not for a stale nonce, the credentials this side sent
    /// for the realm: they are wrong (the user or password).
    #[error("the credentials for realm {0} were refused")]
    Rejected(String),
    /// A header value could not be written.
    #[error("invalid header value: {0}")]
    Header(#[from] sip_message::DecodeError),
}
