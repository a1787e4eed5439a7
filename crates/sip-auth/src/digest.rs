//! The digest computation (RFC 7616 §3.4, RFC 2617 §3.2.2, RFC 3261 §22.4) and the
//! digest challenge and credentials as values.

use md5::Md5;
use sha2::{Digest as _, Sha256, Sha512_256};
use sip_message::header::{AuthParams, Challenge, Credentials};

use crate::AuthError;

/// A digest algorithm (RFC 7616 §3.3, RFC 8760 for SIP), each with its `-sess` variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// MD5 (the default when a challenge names none).
    Md5,
    /// MD5-sess.
    Md5Sess,
    /// SHA-256.
    Sha256,
    /// SHA-256-sess.
    Sha256Sess,
    /// SHA-512/256.
    Sha512_256,
    /// SHA-512-256-sess.
    Sha512_256Sess,
}

impl Algorithm {
    /// Every algorithm, strongest first.
    pub const ALL: [Self; 6] =
        [Self::Sha512_256, Self::Sha512_256Sess, Self::Sha256, Self::Sha256Sess, Self::Md5, Self::Md5Sess];

    /// The algorithm named by `token` (any case); `None` for one this crate does not know.
    pub fn parse(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str().eq_ignore_ascii_case(token))
    }

    /// The name as RFC 7616 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
            Self::Sha512_256 => "SHA-512-256",
            Self::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Whether this is a `-sess` variant (A1 includes the nonce and cnonce).
    pub fn is_session(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess | Self::Sha512_256Sess)
    }

    /// How strong the hash is: the client answers the strongest challenge it gets
    /// (RFC 7616 §3.7).
    pub fn strength(self) -> u8 {
        match self {
            Self::Md5 | Self::Md5Sess => 0,
            Self::Sha256 | Self::Sha256Sess => 1,
            Self::Sha512_256 | Self::Sha512_256Sess => 2,
        }
    }

    /// The hash of `data`, in lower-case hex.
    pub fn hash(self, data: &[u8]) -> String {
        match self {
            Self::Md5 | Self::Md5Sess => hex(&Md5::digest(data)),
            Self::Sha256 | Self::Sha256Sess => hex(&Sha256::digest(data)),
            Self::Sha512_256 | Self::Sha512_256Sess => hex(&Sha512_256::digest(data)),
        }
    }

    /// `H(a ":" b ":" ...)`.
    pub(crate) fn hash_parts(self, parts: &[&[u8]]) -> String {
        let mut joined = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                joined.push(b':');
            }
            joined.extend_from_slice(p);
        }
        self.hash(&joined)
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Quality of protection (RFC 7616 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// Authentication of the request line.
    Auth,
    /// Also the integrity of the body.
    AuthInt,
}

impl Qop {
    /// The value named by `token` (any case).
    pub fn parse(token: &str) -> Option<Self> {
        if token.eq_ignore_ascii_case("auth") {
            Some(Self::Auth)
        } else if token.eq_ignore_ascii_case("auth-int") {
            Some(Self::AuthInt)
        } else {
            None
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::AuthInt => "auth-int",
        }
    }
}

/// What one digest response covers.
#[derive(Debug, Clone, Copy)]
pub struct DigestInput<'a> {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The user name as it goes into A1 (never the userhash).
    pub username: &'a str,
    /// The realm.
    pub realm: &'a str,
    /// The password.
    pub password: &'a str,
    /// The request method.
    pub method: &'a str,
    /// The digest-uri (the Request-URI as sent).
    pub uri: &'a str,
    /// The server's nonce.
    pub nonce: &'a str,
    /// The client's nonce (with a qop, or a `-sess` algorithm).
    pub cnonce: &'a str,
    /// The nonce count.
    pub nc: u32,
    /// The quality of protection; `None` for the RFC 2069 form.
    pub qop: Option<Qop>,
    /// The body, for `auth-int`.
    pub body: &'a [u8],
}

impl DigestInput<'_> {
    /// `H(A1)` (RFC 7616 §3.4.2), with the `-sess` step.
    pub fn ha1(&self) -> String {
        let a = self.algorithm;
        let ha1 = a.hash_parts(&[self.username.as_bytes(), self.realm.as_bytes(), self.password.as_bytes()]);
        if a.is_session() {
            a.hash_parts(&[ha1.as_bytes(), self.nonce.as_bytes(), self.cnonce.as_bytes()])
        } else {
            ha1
        }
    }

    /// `H(A2)` (RFC 7616 §3.4.3) for `method`: empty for the `rspauth` of
    /// Authentication-Info (RFC 2617 §3.2.3).
    fn ha2(&self, method: &str) -> String {
        let a = self.algorithm;
        match self.qop {
            Some(Qop::AuthInt) => {
                let body = a.hash(self.body);
                a.hash_parts(&[method.as_bytes(), self.uri.as_bytes(), body.as_bytes()])
            }
            _ => a.hash_parts(&[method.as_bytes(), self.uri.as_bytes()]),
        }
    }

    fn kd(&self, ha2: &str) -> String {
        let a = self.algorithm;
        let ha1 = self.ha1();
        match self.qop {
            Some(qop) => {
                let nc = format!("{:08x}", self.nc);
                a.hash_parts(&[
                    ha1.as_bytes(),
                    self.nonce.as_bytes(),
                    nc.as_bytes(),
                    self.cnonce.as_bytes(),
                    qop.as_str().as_bytes(),
                    ha2.as_bytes(),
                ])
            }
            None => a.hash_parts(&[ha1.as_bytes(), self.nonce.as_bytes(), ha2.as_bytes()]),
        }
    }

    /// The `response` parameter (RFC 7616 §3.4.1).
    pub fn response(&self) -> String {
        self.kd(&self.ha2(self.method))
    }

    /// The `rspauth` of Authentication-Info: the same with an empty method.
    pub fn rspauth(&self) -> String {
        self.kd(&self.ha2(""))
    }
}

/// The userhash of RFC 7616 §3.4.4: `H(username ":" realm)`.
pub fn userhash(algorithm: Algorithm, username: &str, realm: &str) -> String {
    algorithm.hash_parts(&[username.as_bytes(), realm.as_bytes()])
}

/// A digest challenge (RFC 7616 §3.3), read from a WWW-Authenticate or Proxy-Authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    /// The realm.
    pub realm: String,
    /// The nonce.
    pub nonce: String,
    /// The opaque value to return, if any.
    pub opaque: Option<String>,
    /// The algorithm (MD5 when none is named).
    pub algorithm: Algorithm,
    /// The qop values offered (none: the RFC 2069 form).
    pub qop: Vec<Qop>,
    /// Whether the previous request's nonce was only stale (the credentials were right).
    pub stale: bool,
    /// Whether the server accepts a hashed user name.
    pub userhash: bool,
}

fn text(params: &AuthParams, name: &str) -> Option<String> {
    params.get(name).map(|v| String::from_utf8_lossy(&v).into_owned())
}

fn is_true(params: &AuthParams, name: &str) -> bool {
    params.get(name).is_some_and(|v| v.eq_ignore_ascii_case(b"true"))
}

impl DigestChallenge {
    /// Reads a challenge; an error for another scheme, a missing realm or nonce, or an
    /// algorithm this crate does not know (such a challenge is skipped when others are
    /// offered).
    pub fn from_challenge(challenge: &Challenge) -> Result<Self, AuthError> {
        if !challenge.is_digest() {
            return Err(AuthError::NotDigest);
        }
        let p = &challenge.params;
        let realm = text(p, "realm").ok_or(AuthError::Missing("realm"))?;
        let nonce = text(p, "nonce").ok_or(AuthError::Missing("nonce"))?;
        let algorithm = match text(p, "algorithm") {
            None => Algorithm::Md5,
            Some(a) => Algorithm::parse(&a).ok_or(AuthError::UnknownAlgorithm(a))?,
        };
        let qop =
            text(p, "qop").map(|q| q.split(',').filter_map(|t| Qop::parse(t.trim())).collect()).unwrap_or_default();
        Ok(Self {
            realm,
            nonce,
            opaque: text(p, "opaque"),
            algorithm,
            qop,
            stale: is_true(p, "stale"),
            userhash: is_true(p, "userhash"),
        })
    }

    /// The challenge as a header value.
    pub fn to_challenge(&self) -> Result<Challenge, AuthError> {
        let mut p = AuthParams::new().with("realm", &self.realm, true)?.with("nonce", &self.nonce, true)?;
        if let Some(o) = &self.opaque {
            p = p.with("opaque", o, true)?;
        }
        if self.stale {
            p = p.with("stale", "true", false)?;
        }
        p = p.with("algorithm", self.algorithm.as_str(), false)?;
        if !self.qop.is_empty() {
            let qop: Vec<&str> = self.qop.iter().map(|q| q.as_str()).collect();
            p = p.with("qop", &qop.join(","), true)?;
        }
        if self.userhash {
            p = p.with("userhash", "true", false)?;
        }
        Ok(Challenge { scheme: bytes::Bytes::from_static(b"Digest"), params: p })
    }
}

/// Digest credentials (RFC 7616 §3.4), read from an Authorization or Proxy-Authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestCredentials {
    /// The user name, or its userhash when `userhash` is set.
    pub username: String,
    /// The realm.
    pub realm: String,
    /// The nonce answered.
    pub nonce: String,
    /// The digest-uri.
    pub uri: String,
    /// The response.
    pub response: String,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The client nonce.
    pub cnonce: Option<String>,
    /// The opaque value returned.
    pub opaque: Option<String>,
    /// The qop chosen.
    pub qop: Option<Qop>,
    /// The nonce count.
    pub nc: Option<u32>,
    /// Whether `username` is a userhash.
    pub userhash: bool,
}

impl DigestCredentials {
    /// Reads credentials.
    pub fn from_credentials(credentials: &Credentials) -> Result<Self, AuthError> {
        if !credentials.is_digest() {
            return Err(AuthError::NotDigest);
        }
        let p = &credentials.params;
        let algorithm = match text(p, "algorithm") {
            None => Algorithm::Md5,
            Some(a) => Algorithm::parse(&a).ok_or(AuthError::UnknownAlgorithm(a))?,
        };
        let qop = match text(p, "qop") {
            None => None,
            Some(q) => Some(Qop::parse(&q).ok_or(AuthError::Malformed("qop"))?),
        };
        let nc = match text(p, "nc") {
            None => None,
            Some(n) if n.len() == 8 => Some(u32::from_str_radix(&n, 16).map_err(|_| AuthError::Malformed("nc"))?),
            Some(_) => return Err(AuthError::Malformed("nc")),
        };
        if qop.is_some() && (nc.is_none() || text(p, "cnonce").is_none()) {
            return Err(AuthError::Missing("nc and cnonce"));
        }
        let username = match text(p, "username") {
            Some(u) => u,
            None => text(p, "username*").and_then(|v| decode_ext_value(&v)).ok_or(AuthError::Missing("username"))?,
        };
        Ok(Self {
            username,
            realm: text(p, "realm").ok_or(AuthError::Missing("realm"))?,
            nonce: text(p, "nonce").ok_or(AuthError::Missing("nonce"))?,
            uri: text(p, "uri").ok_or(AuthError::Missing("uri"))?,
            response: text(p, "response").ok_or(AuthError::Missing("response"))?,
            algorithm,
            cnonce: text(p, "cnonce"),
            opaque: text(p, "opaque"),
            qop,
            nc,
            userhash: is_true(p, "userhash"),
        })
    }

    /// The credentials as a header value, in the parameter order and quoting of RFC 7616
    /// §3.4 (qop, nc and algorithm unquoted).
    pub fn to_credentials(&self) -> Result<Credentials, AuthError> {
        // A user name that is not ASCII goes in `username*` (RFC 7616 §3.4.4, RFC 8187).
        let p = if self.userhash || self.username.is_ascii() {
            AuthParams::new().with("username", &self.username, true)?
        } else {
            AuthParams::new().with("username*", &ext_value(&self.username), false)?
        };
        let mut p = p
            .with("realm", &self.realm, true)?
            .with("nonce", &self.nonce, true)?
            .with("uri", &self.uri, true)?
            .with("response", &self.response, true)?
            .with("algorithm", self.algorithm.as_str(), false)?;
        if let Some(c) = &self.cnonce {
            p = p.with("cnonce", c, true)?;
        }
        if let Some(o) = &self.opaque {
            p = p.with("opaque", o, true)?;
        }
        if let Some(q) = self.qop {
            p = p.with("qop", q.as_str(), false)?;
        }
        if let Some(nc) = self.nc {
            p = p.with("nc", &format!("{nc:08x}"), false)?;
        }
        if self.userhash {
            p = p.with("userhash", "true", false)?;
        }
        Ok(Credentials { scheme: bytes::Bytes::from_static(b"Digest"), params: p })
    }
}

/// Compares two strings in time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `UTF-8''` and the percent-encoded text (RFC 8187 §3.2), for `username*`.
fn ext_value(text: &str) -> String {
    let mut out = String::from("UTF-8''");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text of an RFC 8187 ext-value in UTF-8.
fn decode_ext_value(value: &str) -> Option<String> {
    let (charset, rest) = value.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("UTF-8") {
        return None;
    }
    let (_, encoded) = rest.split_once('\'')?;
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}
