//! The client side: answering 401 and 407 challenges.

use sip_message::header::{Authorization, ProxyAuthenticate, ProxyAuthorization, WwwAuthenticate};
use sip_message::{Header, HeaderName, Request, Response};

use crate::AuthError;
use crate::digest::{DigestChallenge, DigestCredentials, DigestInput, Qop, userhash};

/// Most nonces whose count a client keeps (the oldest are forgotten beyond it).
pub const MAX_CLIENT_NONCES: usize = 64;

/// A user's credentials and the nonce counts used with them.
#[derive(Debug, Clone)]
pub struct DigestClient {
    username: String,
    password: String,
    /// Send the user name hashed when the server allows it (RFC 7616 §3.4.4).
    pub use_userhash: bool,
    /// The last nonce count used per nonce, in the order first used.
    nonce_counts: Vec<(String, u32)>,
}

impl DigestClient {
    /// Credentials for `username`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self { username: username.into(), password: password.into(), use_userhash: true, nonce_counts: Vec::new() }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The digest challenges of a 401 or 407 to answer: for each realm the strongest one
    /// this crate implements (RFC 7616 §3.7), with the header its credentials go in
    /// (Authorization for WWW-Authenticate, Proxy-Authorization for Proxy-Authenticate).
    pub fn challenges(response: &Response) -> Vec<(HeaderName, DigestChallenge)> {
        let www = response.headers.typed_all::<WwwAuthenticate>().filter_map(|c| c.ok().map(|c| c.0));
        let proxy = response.headers.typed_all::<ProxyAuthenticate>().filter_map(|c| c.ok().map(|c| c.0));
        let offered = www
            .filter_map(|c| DigestChallenge::from_challenge(&c).ok().map(|d| (HeaderName::AUTHORIZATION, d)))
            .chain(proxy.filter_map(|c| {
                DigestChallenge::from_challenge(&c).ok().map(|d| (HeaderName::PROXY_AUTHORIZATION, d))
            }));
        let mut best: Vec<(HeaderName, DigestChallenge)> = Vec::new();
        for (name, c) in offered {
            match best.iter_mut().find(|(n, b)| *n == name && b.realm == c.realm) {
                Some((_, b)) if c.algorithm.strength() > b.algorithm.strength() => *b = c,
                Some(_) => {}
                None => best.push((name, c)),
            }
        }
        best
    }

    fn next_count(&mut self, nonce: &str) -> u32 {
        if let Some((_, n)) = self.nonce_counts.iter_mut().find(|(k, _)| k == nonce) {
            *n = n.wrapping_add(1);
            return *n;
        }
        if self.nonce_counts.len() >= MAX_CLIENT_NONCES {
            self.nonce_counts.remove(0);
        }
        self.nonce_counts.push((nonce.to_string(), 1));
        1
    }

    /// Credentials answering `challenge` for a request of `method` to `uri` with `body`;
    /// `cnonce` is a fresh client nonce (random, a token). The qop is `auth` when offered,
    /// else `auth-int`; the nonce count goes up with each use of a nonce.
    pub fn respond(
        &mut self,
        challenge: &DigestChallenge,
        method: &str,
        uri: &str,
        body: &[u8],
        cnonce: &str,
    ) -> Result<DigestCredentials, AuthError> {
        let qop = if challenge.qop.contains(&Qop::Auth) {
            Some(Qop::Auth)
        } else if challenge.qop.contains(&Qop::AuthInt) {
            Some(Qop::AuthInt)
        } else {
            None
        };
        let uses_cnonce = qop.is_some() || challenge.algorithm.is_session();
        let nc = if qop.is_some() { self.next_count(&challenge.nonce) } else { 0 };
        let input = DigestInput {
            algorithm: challenge.algorithm,
            username: &self.username,
            realm: &challenge.realm,
            password: &self.password,
            method,
            uri,
            nonce: &challenge.nonce,
            cnonce: if uses_cnonce { cnonce } else { "" },
            nc,
            qop,
            body,
        };
        let hashed = challenge.userhash && self.use_userhash;
        Ok(DigestCredentials {
            username: if hashed {
                userhash(challenge.algorithm, &self.username, &challenge.realm)
            } else {
                self.username.clone()
            },
            realm: challenge.realm.clone(),
            nonce: challenge.nonce.clone(),
            uri: uri.to_string(),
            response: input.response(),
            algorithm: challenge.algorithm,
            cnonce: uses_cnonce.then(|| cnonce.to_string()),
            opaque: challenge.opaque.clone(),
            qop,
            nc: qop.map(|_| nc),
            userhash: hashed,
        })
    }

    /// Puts credentials in `retry` (the challenged request sent again, with its new CSeq
    /// and branch) for every challenge of `response` (RFC 3261 §22.2–22.3), replacing any
    /// it had for the same realms. `previous` is the request that was challenged: if it
    /// already carried credentials for a realm that is challenged again without
    /// `stale=true`, they were wrong and this fails with [`AuthError::Rejected`].
    pub fn authorize(
        &mut self,
        retry: &mut Request,
        previous: &Request,
        response: &Response,
        cnonce: &str,
    ) -> Result<(), AuthError> {
        let challenges = Self::challenges(response);
        if challenges.is_empty() {
            return Err(AuthError::NoUsableChallenge);
        }
        for (name, c) in &challenges {
            if !c.stale && sent_for_realm(previous, name, &c.realm) {
                return Err(AuthError::Rejected(c.realm.clone()));
            }
        }
        let uri = retry.uri.to_string();
        let method = retry.method.to_string();
        // Credentials of the realms challenged now replace the old ones.
        let mut kept: Vec<Header> = Vec::new();
        for h in retry.headers.iter() {
            let realm_challenged =
                challenges.iter().any(|(name, c)| h.name() == name && credential_realm(h).as_deref() == Some(&c.realm));
            if !realm_challenged {
                kept.push(h.clone());
            }
        }
        let mut headers = sip_message::Headers::new();
        for h in kept {
            headers.push(h);
        }
        for (name, c) in &challenges {
            let credentials = self.respond(c, &method, &uri, &retry.body, cnonce)?.to_credentials()?;
            let header = if *name == HeaderName::PROXY_AUTHORIZATION {
                Header::typed(&ProxyAuthorization(credentials))?
            } else {
                Header::typed(&Authorization(credentials))?
            };
            headers.push(header);
        }
        retry.headers = headers;
        Ok(())
    }
}

/// The realm of an Authorization or Proxy-Authorization field.
fn credential_realm(h: &Header) -> Option<String> {
    let value = h.value();
    let credentials = if *h.name() == HeaderName::PROXY_AUTHORIZATION {
        <ProxyAuthorization as sip_message::header::TypedHeader>::decode(value).ok()?.0
    } else if *h.name() == HeaderName::AUTHORIZATION {
        <Authorization as sip_message::header::TypedHeader>::decode(value).ok()?.0
    } else {
        return None;
    };
    credentials.params.get("realm").map(|r| String::from_utf8_lossy(&r).into_owned())
}

fn sent_for_realm(request: &Request, name: &HeaderName, realm: &str) -> bool {
    request.headers.get_all(name).any(|h| credential_realm(h).as_deref() == Some(realm))
}
