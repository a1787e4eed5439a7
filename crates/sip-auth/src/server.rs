//! The server side: challenges with stateless nonces, and verification.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use sip_message::header::{AuthParams, AuthenticationInfo};

use crate::digest::{Algorithm, DigestChallenge, DigestCredentials, DigestInput, Qop, constant_time_eq, hex};

/// How long a nonce is good for by default.
pub const DEFAULT_NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// Most nonces whose last nonce count a server keeps for replay detection (the oldest go
/// first beyond it).
pub const MAX_TRACKED_NONCES: usize = 65_536;

/// Hex digits of the timestamp, then of the truncated HMAC, in a nonce.
const TIME_HEX: usize = 16;
const MAC_HEX: usize = 32;

/// Credentials that were verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The user.
    pub username: String,
    /// The Authentication-Info to put in the response (RFC 7616 §3.5): `qop`, `rspauth`,
    /// `cnonce`, `nc`, and a `nextnonce` once the nonce is half way through its life.
    pub authentication_info: AuthenticationInfo,
}

/// Why credentials were refused, with the challenge to answer with (401 or 407).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What was wrong.
    pub reason: &'static str,
    /// The new challenge; `stale` is set when only the nonce had expired.
    pub challenge: DigestChallenge,
}

/// A realm's digest authentication with stateless nonces.
#[derive(Debug, Clone)]
pub struct DigestServer {
    realm: String,
    secret: Vec<u8>,
    algorithm: Algorithm,
    nonce_lifetime: Duration,
    max_tracked: usize,
    /// The last nonce count accepted per nonce, with the nonce's time.
    seen: HashMap<String, (u32, u64)>,
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl DigestServer {
    /// A server for `realm` whose nonces are signed with `secret` (keep it random and
    /// private; servers sharing it accept each other's nonces).
    pub fn new(realm: impl Into<String>, secret: impl Into<Vec<u8>>, algorithm: Algorithm) -> Self {
        Self {
            realm: realm.into(),
            secret: secret.into(),
            algorithm,
            nonce_lifetime: DEFAULT_NONCE_LIFETIME,
            max_tracked: MAX_TRACKED_NONCES,
            seen: HashMap::new(),
        }
    }

    /// The same with another nonce lifetime.
    pub fn with_nonce_lifetime(mut self, lifetime: Duration) -> Self {
        self.nonce_lifetime = lifetime;
        self
    }

    /// The same keeping at most `max` nonces for replay detection.
    pub fn with_max_tracked_nonces(mut self, max: usize) -> Self {
        self.max_tracked = max.max(1);
        self
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    fn mac(&self, time: u64) -> String {
        // HMAC takes a key of any length.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.secret) else { return String::new() };
        mac.update(&time.to_be_bytes());
        mac.update(self.realm.as_bytes());
        hex(&mac.finalize().into_bytes()[..MAC_HEX / 2])
    }

    /// A nonce made at `now`: its time and an HMAC of it under the secret, in hex.
    pub fn nonce(&self, now: SystemTime) -> String {
        let t = unix_seconds(now);
        format!("{t:016x}{}", self.mac(t))
    }

    /// The time of a nonce this server made, if it is one.
    fn nonce_time(&self, nonce: &str) -> Option<u64> {
        if nonce.len() != TIME_HEX + MAC_HEX || !nonce.is_ascii() {
            return None;
        }
        let t = u64::from_str_radix(&nonce[..TIME_HEX], 16).ok()?;
        constant_time_eq(&nonce.as_bytes()[TIME_HEX..], self.mac(t).as_bytes()).then_some(t)
    }

    /// A challenge with a fresh nonce (`stale` when the credentials were right but their
    /// nonce had expired, RFC 7616 §3.3).
    pub fn challenge(&self, now: SystemTime, stale: bool) -> DigestChallenge {
        DigestChallenge {
            realm: self.realm.clone(),
            nonce: self.nonce(now),
            opaque: None,
            algorithm: self.algorithm,
            qop: vec![Qop::Auth, Qop::AuthInt],
            stale,
            userhash: false,
        }
    }

    fn refuse(&self, now: SystemTime, reason: &'static str, stale: bool) -> Refusal {
        Refusal { reason, challenge: self.challenge(now, stale) }
    }

    /// Verifies credentials for a request of `method` with `body`; `password` gives a
    /// user's password. Refused: another realm or algorithm, a nonce this server did not
    /// make, an unknown user, a wrong response, no qop (this server always offers one),
    /// a nonce count not above the last one accepted for the nonce (a replay), and, with
    /// `stale=true`, an expired nonce with an otherwise right response.
    pub fn verify(
        &mut self,
        now: SystemTime,
        method: &str,
        credentials: &DigestCredentials,
        body: &[u8],
        password: impl Fn(&str) -> Option<String>,
    ) -> Result<Verified, Refusal> {
        if credentials.realm != self.realm {
            return Err(self.refuse(now, "another realm", false));
        }
        if credentials.algorithm != self.algorithm {
            return Err(self.refuse(now, "another algorithm", false));
        }
        let Some(issued) = self.nonce_time(&credentials.nonce) else {
            return Err(self.refuse(now, "a nonce this server did not make", false));
        };
        let (Some(qop), Some(nc), Some(cnonce)) = (credentials.qop, credentials.nc, credentials.cnonce.as_deref())
        else {
            return Err(self.refuse(now, "no qop", false));
        };
        if credentials.userhash {
            return Err(self.refuse(now, "a hashed user name", false));
        }
        let Some(pw) = password(&credentials.username) else {
            return Err(self.refuse(now, "an unknown user", false));
        };
        let realm = self.realm.clone();
        let input = DigestInput {
            algorithm: self.algorithm,
            username: &credentials.username,
            realm: &realm,
            password: &pw,
            method,
            uri: &credentials.uri,
            nonce: &credentials.nonce,
            cnonce,
            nc,
            qop: Some(qop),
            body,
        };
        if !constant_time_eq(input.response().as_bytes(), credentials.response.as_bytes()) {
            return Err(self.refuse(now, "a wrong response", false));
        }
        let now_s = unix_seconds(now);
        let lifetime = self.nonce_lifetime.as_secs();
        if now_s.saturating_sub(issued) > lifetime {
            return Err(self.refuse(now, "an expired nonce", true));
        }
        match self.seen.get(&credentials.nonce) {
            Some(&(last, _)) if nc <= last => return Err(self.refuse(now, "a nonce count used before", false)),
            _ => {}
        }
        self.remember(now_s, &credentials.nonce, nc, issued);
        let mut info = AuthParams::new();
        let mut parts: Vec<(&str, String, bool)> = vec![
            ("qop", qop.as_str().to_string(), false),
            ("rspauth", input.rspauth(), true),
            ("cnonce", cnonce.to_string(), true),
            ("nc", format!("{nc:08x}"), false),
        ];
        if now_s.saturating_sub(issued) >= lifetime / 2 {
            parts.push(("nextnonce", self.nonce(now), true));
        }
        for (name, value, quote) in parts {
            if let Ok(p) = info.with(name, &value, quote) {
                info = p;
            }
        }
        Ok(Verified { username: credentials.username.clone(), authentication_info: AuthenticationInfo(info) })
    }

    /// Records the nonce count accepted for `nonce`, within the bound on nonces kept.
    fn remember(&mut self, now: u64, nonce: &str, nc: u32, issued: u64) {
        if !self.seen.contains_key(nonce) && self.seen.len() >= self.max_tracked {
            let lifetime = self.nonce_lifetime.as_secs();
            self.seen.retain(|_, &mut (_, t)| now.saturating_sub(t) <= lifetime);
            if self.seen.len() >= self.max_tracked {
                if let Some(oldest) = self.seen.iter().min_by_key(|(_, (_, t))| *t).map(|(k, _)| k.clone()) {
                    self.seen.remove(&oldest);
                }
            }
        }
        self.seen.insert(nonce.to_string(), (nc, issued));
    }

    /// How many nonces are kept for replay detection.
    pub fn tracked_nonces(&self) -> usize {
        self.seen.len()
    }
}
