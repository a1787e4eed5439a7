//! Event and identity headers: Event, Subscription-State (RFC 6665), Reason (RFC 3326),
//! Accept-Contact and Reject-Contact (RFC 3841), Identity (RFC 8224), Identity-Info (RFC 4474).

use std::borrow::Cow;

use bytes::{BufMut, Bytes, BytesMut};

use super::params::{scan_gen_value, scan_params};
use super::{Params, TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex;
use crate::name::HeaderName;
use crate::uri::{Uri, UriContext, scan_uri};

fn delta_param(params: Params<'_>, name: &str) -> Option<u32> {
    params.get(name)?.value.and_then(lex::parse_u32)
}

token_params_header!(
    /// `Event` (RFC 6665): the event package of a SUBSCRIBE or NOTIFY, with its `id`.
    Event, EVENT, package, "The event type (`presence`, `refer`, `dialog.winfo`).", "expected an event type"
);

impl Event {
    /// The `id` parameter, which tells subscriptions of one package apart.
    pub fn id(&self) -> Option<&str> {
        self.params().get("id").and_then(|p| p.token())
    }

    fn check(&self) -> Result<(), DecodeError> {
        if self.package().split('.').any(str::is_empty) {
            return Err(DecodeError::new("invalid event type", 0));
        }
        Ok(())
    }
}

token_params_header!(
    /// `Subscription-State` (RFC 6665): `active`, `pending` or `terminated`, with `expires`,
    /// `reason` and `retry-after`.
    SubscriptionState, SUBSCRIPTION_STATE, state, "The state as written.", "expected a subscription state"
);

impl SubscriptionState {
    /// The `expires` parameter.
    pub fn expires(&self) -> Option<u32> {
        delta_param(self.params(), "expires")
    }

    /// The `retry-after` parameter.
    pub fn retry_after(&self) -> Option<u32> {
        delta_param(self.params(), "retry-after")
    }

    /// The `reason` parameter.
    pub fn reason(&self) -> Option<&str> {
        self.params().get("reason").and_then(|p| p.token())
    }

    fn check(&self) -> Result<(), DecodeError> {
        for (name, ok) in [("expires", self.expires().is_some()), ("retry-after", self.retry_after().is_some())] {
            if self.params().contains(name) && !ok {
                return Err(DecodeError::new(
                    "expires and retry-after must be delta-seconds",
                    self.params.start as usize,
                ));
            }
        }
        Ok(())
    }
}

token_params_header!(
    /// `Reason` (RFC 3326): why a request was sent (`SIP;cause=200;text="Call completed elsewhere"`).
    Reason, REASON, protocol, "The protocol (`SIP`, `Q.850`, ...).", "expected a protocol"
);

impl Reason {
    /// The `cause` parameter.
    pub fn cause(&self) -> Option<u32> {
        delta_param(self.params(), "cause")
    }

    /// The `text` parameter, unquoted.
    pub fn text(&self) -> Option<Cow<'_, [u8]>> {
        self.params().value("text")
    }

    fn check(&self) -> Result<(), DecodeError> {
        let at = self.params.start as usize;
        if self.params().contains("cause") && self.cause().is_none() {
            return Err(DecodeError::new("cause must be 1*DIGIT", at));
        }
        if self.params().get("text").is_some_and(|t| t.value.and_then(<[u8]>::first) != Some(&b'"')) {
            return Err(DecodeError::new("text must be a quoted string", at));
        }
        Ok(())
    }
}

macro_rules! caller_pref_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            text: Bytes,
        }

        impl $ty {
            /// The feature parameters.
            pub fn params(&self) -> Params<'_> {
                Params::new(self.text.get(1..).unwrap_or_default())
            }
        }

        impl TypedHeader for $ty {
            const NAME: HeaderName = HeaderName::$name;

            fn decode(value: &Bytes) -> Result<Self, DecodeError> {
                decode_all(value, |c| {
                    if !c.eat(b'*') {
                        return Err(c.error("expected '*'"));
                    }
                    // The parameters must follow the '*' directly for `params()` to find them.
                    let params = scan_params(c)?;
                    if params.start != 1 && params.start != params.end {
                        return Err(DecodeError::new("white space after '*'", 1));
                    }
                    Ok(Self { text: value.clone() })
                })
            }

            fn encode(&self, out: &mut BytesMut) {
                out.put_slice(&self.text);
            }
        }
    };
}

caller_pref_header!(
    /// `Accept-Contact` (RFC 3841): features the caller wants the callee to have.
    AcceptContact, ACCEPT_CONTACT
);
caller_pref_header!(
    /// `Reject-Contact` (RFC 3841): features the caller wants to avoid.
    RejectContact, REJECT_CONTACT
);

/// `Identity` (RFC 8224, or the digest of RFC 4474): a signature over the request. The
/// `info` parameter RFC 8224 requires is optional here, as RFC 4474 senders (RFC 4475
/// §3.1.1.11) put the certificate URI in Identity-Info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The signed identity digest as written.
    pub digest: Bytes,
    /// The `info` URI (RFC 8224).
    pub info: Option<Uri>,
    /// The whole value as written (with `alg`, `ppt` and other parameters).
    pub value: Bytes,
}

impl TypedHeader for Identity {
    const NAME: HeaderName = HeaderName::IDENTITY;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            if c.peek() == Some(b'"') {
                let d = c.quoted_string()?;
                return Ok(Self { digest: value.slice(d), info: None, value: value.clone() });
            }
            let d =
                c.take_while_fn(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'.' | b'-' | b'_'));
            if d.is_empty() {
                return Err(c.error("expected the signed identity digest"));
            }
            let mut info = None;
            while c.eat_sep(b';') {
                let n = c.expect_token("expected a parameter name")?;
                c.expect_sep(b'=', "expected '='")?;
                if value[n].eq_ignore_ascii_case(b"info") {
                    if !c.eat(b'<') {
                        return Err(c.error("info must be <absoluteURI>"));
                    }
                    let (uri, end) = scan_uri(value, c.pos, value.len(), UriContext::Bracketed)?;
                    if value.get(end) != Some(&b'>') {
                        return Err(DecodeError::new("expected '>' after the URI", end));
                    }
                    info = Some(uri);
                    c.pos = end + 1;
                } else {
                    scan_gen_value(c)?;
                }
            }
            Ok(Self { digest: value.slice(d), info, value: value.clone() })
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::IdentityInfo;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn events() {
        let e = Event::decode(&b("refer;id=93809824")).unwrap();
        assert_eq!((e.package(), e.id()), ("refer", Some("93809824")));
        let s = SubscriptionState::decode(&b("active;expires=60")).unwrap();
        assert_eq!(s.expires(), Some(60));
        assert!(SubscriptionState::decode(&b("terminated;retry-after=soon")).is_err());
        let r = Reason::decode(&b("SIP ;cause=200 ;text=\"Call completed elsewhere\"")).unwrap();
        assert_eq!(r.cause(), Some(200));
        assert_eq!(r.text().unwrap().as_ref(), b"Call completed elsewhere");
        assert!(Reason::decode(&b("Q.850;cause=x")).is_err());
        assert!(AcceptContact::decode(&b("*;audio;require")).unwrap().params().contains("audio"));
        assert!(AcceptContact::decode(&b("* ;audio")).is_err());
        assert!(RejectContact::decode(&b("sip:x")).is_err());
    }

    #[test]
    fn identity() {
        let i = Identity::decode(&b("sv5CTo05KqpSmtHt3dcEi0/1CWTSZtnG3iV+1nmurLXV/HmtyNS7Ltrg9dlxkWzoeU7d7OV8HweTTDobV3itTmgPwCFjaEmMyEI3d7SyN21yNDo2ER/Ovgtw0Lu5csIppPqOg1uXndzHbG7mR6Rl9BnUhHufVRbp51Mn3w0gfUs=;info=<https://biloxi.example.org/biloxi.cer>;alg=ES256")).unwrap();
        assert_eq!(i.info.unwrap().scheme(), "https");
        let ii = IdentityInfo::decode(&b("<https://atlanta.example.com/atlanta.cer>;alg=rsa-sha1")).unwrap();
        assert_eq!(ii.params().get("alg").unwrap().token(), Some("rsa-sha1"));
        assert!(Identity::decode(&b("abc")).is_ok());
        assert!(Identity::decode(&b("abc;info")).is_err());
        assert!(Identity::decode(&b("abc;info=http://x")).is_err());
        assert!(Identity::decode(&b("")).is_err());
        assert!(IdentityInfo::decode(&b("<https://atlanta.example.com/atlanta.cer>;alg=rsa-sha1")).is_ok());
    }
}
