//! Authentication headers (§20.7, §20.27, §20.28, §20.44, §20.6): the challenge or
//! credentials scheme and its comma-separated parameters, decoded generically here and
//! interpreted by the digest layer.

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::{Param, TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex::{self, Cursor};
use crate::name::HeaderName;

/// The parameters of a challenge or credentials: `auth-param *(COMMA auth-param)` with
/// `auth-param = token EQUAL ( token / quoted-string )`, or a single token68 (RFC 7235).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthParams {
    raw: Bytes,
}

fn is_token68(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

impl AuthParams {
    /// An empty parameter list.
    pub fn new() -> Self {
        Self { raw: Bytes::new() }
    }

    /// Scans the parameters; `token68` allows the single-token form, which Digest never uses.
    fn scan(c: &mut Cursor<'_>, src: &Bytes, token68: bool) -> Result<Self, DecodeError> {
        let start = c.pos;
        let list = (|| {
            loop {
                c.expect_token("expected an auth-param name")?;
                c.expect_sep(b'=', "expected '=' in auth-param")?;
                if c.peek() == Some(b'"') {
                    c.quoted_string()?;
                } else {
                    c.expect_token("expected a token or quoted string")?;
                }
                if !c.eat_sep(b',') {
                    return Ok(());
                }
            }
        })();
        c.skip_sws();
        if list.is_ok() && c.at_end() {
            return Ok(Self { raw: src.slice(start..c.pos) });
        }
        if !token68 {
            return list.and(Err(c.error("unexpected text after the parameters")));
        }
        // token68
        c.pos = start;
        let r = c.take_while_fn(is_token68);
        while c.eat(b'=') {}
        if r.is_empty() || !c.at_end() {
            return list.and(Err(c.error("invalid authentication parameters")));
        }
        Ok(Self { raw: src.slice(start..c.pos) })
    }

    /// The parameters as written.
    pub fn as_bytes(&self) -> &Bytes {
        &self.raw
    }

    /// The parameters in order (none for a token68).
    pub fn iter(&self) -> impl Iterator<Item = Param<'_>> + '_ {
        let raw: &[u8] = &self.raw;
        let mut c = Cursor::new(raw);
        std::iter::from_fn(move || {
            c.skip_sws();
            let name = c.token()?;
            if !c.eat_sep(b'=') {
                return None;
            }
            let v = if c.peek() == Some(b'"') { c.quoted_string().ok()? } else { c.token()? };
            c.eat_sep(b',');
            Some(Param { name: lex::ascii(&raw[name]), value: Some(&raw[v]) })
        })
    }

    /// The value of `name` (compared without regard to case), unquoted.
    pub fn get(&self, name: &str) -> Option<Cow<'_, [u8]>> {
        self.iter().find(|p| p.name.eq_ignore_ascii_case(name)).and_then(|p| p.unquoted())
    }

    /// These parameters plus `name=value`; `quote` writes the value as a quoted string.
    pub fn with(&self, name: &str, value: &str, quote: bool) -> Result<Self, DecodeError> {
        if !lex::is_token(name.as_bytes()) || (!quote && !lex::is_token(value.as_bytes())) {
            return Err(DecodeError::new("auth-param name and unquoted values must be tokens", 0));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(DecodeError::new("line break in auth-param value", 0));
        }
        let mut out = BytesMut::with_capacity(self.raw.len() + name.len() + value.len() + 5);
        out.put_slice(&self.raw);
        if !self.raw.is_empty() {
            out.put_slice(b", ");
        }
        out.put_slice(name.as_bytes());
        out.put_u8(b'=');
        if quote {
            lex::write_quoted(&mut out, value.as_bytes());
        } else {
            out.put_slice(value.as_bytes());
        }
        Ok(Self { raw: out.freeze() })
    }
}

impl Default for AuthParams {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for AuthParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.raw))
    }
}

macro_rules! scheme_value {
    ($(#[$doc:meta])* $ty:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            /// The scheme (`Digest`), compared without regard to case.
            pub scheme: Bytes,
            /// The parameters.
            pub params: AuthParams,
        }

        impl $ty {
            /// Whether the scheme is `Digest`.
            pub fn is_digest(&self) -> bool {
                self.scheme.eq_ignore_ascii_case(b"Digest")
            }

            fn decode_value(value: &Bytes) -> Result<Self, DecodeError> {
                decode_all(value, |c| {
                    let scheme = c.expect_token("expected an authentication scheme")?;
                    if !c.skip_sws() {
                        return Err(c.error("expected white space after the scheme"));
                    }
                    let digest = value[scheme.clone()].eq_ignore_ascii_case(b"Digest");
                    let params = AuthParams::scan(c, value, !digest)?;
                    Ok(Self {
                        scheme: value.slice(scheme),
                        params,
                    })
                })
            }

            fn encode_value(&self, out: &mut BytesMut) {
                out.put_slice(&self.scheme);
                out.put_u8(b' ');
                out.put_slice(&self.params.raw);
            }
        }
    };
}

scheme_value!(
    /// A challenge: what a 401 or 407 asks for.
    Challenge
);
scheme_value!(
    /// Credentials: the answer to a challenge.
    Credentials
);

macro_rules! auth_header {
    ($(#[$doc:meta])* $ty:ident($inner:ident), $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty(pub $inner);

        impl TypedHeader for $ty {
            const NAME: HeaderName = HeaderName::$name;

            fn decode(value: &Bytes) -> Result<Self, DecodeError> {
                $inner::decode_value(value).map(Self)
            }

            fn encode(&self, out: &mut BytesMut) {
                self.0.encode_value(out);
            }
        }
    };
}

auth_header!(
    /// `WWW-Authenticate` (§20.44): a UAS or registrar's challenge in a 401.
    WwwAuthenticate(Challenge), WWW_AUTHENTICATE
);
auth_header!(
    /// `Proxy-Authenticate` (§20.27): a proxy's challenge in a 407.
    ProxyAuthenticate(Challenge), PROXY_AUTHENTICATE
);
auth_header!(
    /// `Authorization` (§20.7): credentials for a UAS or registrar.
    Authorization(Credentials), AUTHORIZATION
);
auth_header!(
    /// `Proxy-Authorization` (§20.28): credentials for a proxy.
    ProxyAuthorization(Credentials), PROXY_AUTHORIZATION
);

/// `Authentication-Info` (§20.6): `nextnonce`, `qop`, `rspauth`, `cnonce`, `nc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationInfo(pub AuthParams);

impl TypedHeader for AuthenticationInfo {
    const NAME: HeaderName = HeaderName::AUTHENTICATION_INFO;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| AuthParams::scan(c, value, false)).map(Self)
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.0.raw);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_challenge() {
        let v = Bytes::from_static(b"Digest realm=\"atlanta.com\",\r\n domain=\"sip:boxesbybob.com\", qop=\"auth\",\r\n nonce=\"f84f1cec41e6cbe5aea9c8e88d359\",\r\n opaque=\"\", stale=FALSE, algorithm=MD5");
        let c = WwwAuthenticate::decode(&v).unwrap().0;
        assert!(c.is_digest());
        assert_eq!(c.params.get("realm").unwrap().as_ref(), b"atlanta.com");
        assert_eq!(c.params.get("opaque").unwrap().as_ref(), b"");
        assert_eq!(c.params.get("ALGORITHM").unwrap().as_ref(), b"MD5");
        assert_eq!(c.params.iter().count(), 7);
    }

    #[test]
    fn other_schemes() {
        let a = Authorization::decode(&Bytes::from_static(b"NoOneKnowsThisScheme opaque-data=here")).unwrap();
        assert!(!a.0.is_digest());
        assert!(Authorization::decode(&Bytes::from_static(b"Bearer mF_9.B5f-4.1JqM==")).is_ok());
        assert!(Authorization::decode(&Bytes::from_static(b"Digest")).is_err());
        assert!(Authorization::decode(&Bytes::from_static(b"Digest realm=")).is_err());
        assert!(Authorization::decode(&Bytes::from_static(b"Digest a=b,,c=d")).is_err());
    }

    #[test]
    fn build() {
        let p = AuthParams::new().with("username", "bob", true).unwrap().with("algorithm", "MD5", false).unwrap();
        assert_eq!(p.as_bytes().as_ref(), b"username=\"bob\", algorithm=MD5");
        assert!(p.with("x", "a b", false).is_err());
        let info =
            AuthenticationInfo::decode(&Bytes::from_static(b"nextnonce=\"47364c23432d2e131a5fb210812c\"")).unwrap();
        assert_eq!(info.0.get("nextnonce").unwrap().as_ref(), b"47364c23432d2e131a5fb210812c");
    }
}
