//! List headers whose elements are single tokens: Allow, Supported, Require, Proxy-Require,
//! Unsupported, Content-Encoding, Content-Language, Allow-Events, Request-Disposition; and
//! Privacy, whose values are separated by `;`.

use bytes::{BufMut, Bytes, BytesMut};

use super::{TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex;
use crate::method::Method;
use crate::name::HeaderName;

macro_rules! token_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident, $check:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $ty(pub Bytes);

        impl $ty {
            /// The element as text.
            pub fn as_str(&self) -> &str {
                std::str::from_utf8(&self.0).unwrap_or("")
            }
        }

        impl TypedHeader for $ty {
            const NAME: HeaderName = HeaderName::$name;

            fn decode(value: &Bytes) -> Result<Self, DecodeError> {
                decode_all(value, |c| {
                    let r = c.expect_token($what)?;
                    let check: fn(&[u8]) -> bool = $check;
                    if !check(&value[r.clone()]) {
                        return Err(DecodeError::new($what, r.start));
                    }
                    Ok(Self(value.slice(r)))
                })
            }

            fn encode(&self, out: &mut BytesMut) {
                out.put_slice(&self.0);
            }
        }
    };
}

fn any_token(_: &[u8]) -> bool {
    true
}

/// `language-tag = primary-tag *( "-" subtag )`, each 1*8ALPHA.
fn language_tag(t: &[u8]) -> bool {
    t.split(|&b| b == b'-').all(|p| !p.is_empty() && p.len() <= 8 && p.iter().all(u8::is_ascii_alphabetic))
}

/// `event-type = event-package *( "." event-template )`, each a token without dots.
fn event_type(t: &[u8]) -> bool {
    t.split(|&b| b == b'.').all(|p| !p.is_empty())
}

token_header!(
    /// `Supported` (§20.37): one option tag the sender supports.
    Supported, SUPPORTED, any_token, "option-tag must be a token"
);
token_header!(
    /// `Require` (§20.32): one option tag the UAS must support (else 420).
    Require, REQUIRE, any_token, "option-tag must be a token"
);
token_header!(
    /// `Proxy-Require` (§20.29): one option tag proxies must support.
    ProxyRequire, PROXY_REQUIRE, any_token, "option-tag must be a token"
);
token_header!(
    /// `Unsupported` (§20.40): one option tag the UAS does not support.
    Unsupported, UNSUPPORTED, any_token, "option-tag must be a token"
);
token_header!(
    /// `Content-Encoding` (§20.12): one content coding applied to the body.
    ContentEncoding, CONTENT_ENCODING, any_token, "content-coding must be a token"
);
token_header!(
    /// `Content-Language` (§20.13): one language tag of the body.
    ContentLanguage, CONTENT_LANGUAGE, language_tag, "invalid language tag"
);
token_header!(
    /// `Allow-Events` (RFC 6665): one event package the sender accepts.
    AllowEvents, ALLOW_EVENTS, event_type, "invalid event type"
);
token_header!(
    /// `Request-Disposition` (RFC 3841): one directive to proxies.
    RequestDisposition, REQUEST_DISPOSITION, any_token, "directive must be a token"
);

/// `Allow` (§20.5): one method the sender supports.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Allow(pub Method);

impl TypedHeader for Allow {
    const NAME: HeaderName = HeaderName::ALLOW;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let r = c.expect_token("Allow lists methods")?;
            Ok(Self(Method::from_slice(value, r)))
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(self.0.as_bytes());
    }
}

/// `Privacy` (RFC 3323): privacy values separated by `;` (`id`, `header`, `session`, `user`,
/// `none`, `critical`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Privacy(pub Bytes);

impl Privacy {
    /// The privacy values.
    pub fn values(&self) -> impl Iterator<Item = &[u8]> {
        self.0.split(|&b| b == b';').map(|v| {
            let r = lex::trim_lws(v, 0..v.len());
            &v[r]
        })
    }

    /// Whether `value` is requested (compared without regard to case).
    pub fn contains(&self, value: &str) -> bool {
        self.values().any(|v| v.eq_ignore_ascii_case(value.as_bytes()))
    }
}

impl TypedHeader for Privacy {
    const NAME: HeaderName = HeaderName::PRIVACY;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            c.expect_token("privacy value must be a token")?;
            while c.eat_sep(b';') {
                c.expect_token("privacy value must be a token")?;
            }
            Ok(Self(value.clone()))
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert_eq!(Supported::decode(&Bytes::from_static(b"100rel")).unwrap().as_str(), "100rel");
        assert!(Require::decode(&Bytes::from_static(b"a b")).is_err());
        assert!(ContentLanguage::decode(&Bytes::from_static(b"en-US")).is_ok());
        assert!(ContentLanguage::decode(&Bytes::from_static(b"en-toolongtag")).is_err());
        assert!(AllowEvents::decode(&Bytes::from_static(b"presence.winfo")).is_ok());
        assert!(AllowEvents::decode(&Bytes::from_static(b"presence..winfo")).is_err());
        assert_eq!(Allow::decode(&Bytes::from_static(b"INVITE")).unwrap().0, Method::INVITE);
        let p = Privacy::decode(&Bytes::from_static(b"id ; header;critical")).unwrap();
        assert!(p.contains("header") && p.contains("ID") && !p.contains("user"));
        assert!(Privacy::decode(&Bytes::from_static(b"id;;")).is_err());
    }
}
