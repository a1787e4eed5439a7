//! Typed header fields: one type per header of RFC 3261 §20 and of the extensions the
//! stack implements, each decoding from the raw value and encoding back.
//!
//! Decoding is on access: [`Headers`](crate::Headers) keeps every field raw, and
//! `headers.typed::<H>()` / `headers.typed_all::<H>()` decode when asked. List headers
//! (Via, Contact, Route, ...) decode one list element per value.

use bytes::{Bytes, BytesMut};

use crate::error::DecodeError;
use crate::lex::Cursor;
use crate::name::HeaderName;

/// A header whose value is a token with parameters (`session;handling=optional`,
/// `presence;id=1`): the type keeps the value, the token's span and the parameters' span,
/// and implements `fn check(&self) -> Result<(), DecodeError>` for what its grammar adds.
macro_rules! token_params_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident, $get:ident, $getdoc:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            text: bytes::Bytes,
            token: crate::lex::Span,
            params: crate::lex::Span,
        }

        impl $ty {
            #[doc = $getdoc]
            pub fn $get(&self) -> &str {
                crate::lex::ascii(self.token.of_text(&self.text))
            }

            /// The parameters.
            pub fn params(&self) -> super::Params<'_> {
                super::Params::new(self.params.of_text(&self.text))
            }
        }

        impl super::TypedHeader for $ty {
            const NAME: crate::name::HeaderName = crate::name::HeaderName::$name;

            fn decode(value: &bytes::Bytes) -> Result<Self, crate::error::DecodeError> {
                let h = super::decode_all(value, |c| {
                    let r = c.expect_token($what)?;
                    let params = super::params::scan_params(c)?;
                    Ok(Self { text: value.clone(), token: crate::lex::Span::of(r), params })
                })?;
                h.check()?;
                Ok(h)
            }

            fn encode(&self, out: &mut bytes::BytesMut) {
                bytes::BufMut::put_slice(out, &self.text);
            }
        }
    };
}

mod addr;
mod auth;
mod event;
mod info;
mod media;
mod numeric;
mod params;
mod text;
mod tokens;
mod via;

pub use addr::{
    Contact, From, NameAddr, PAssertedIdentity, PPreferredIdentity, Path, RecordRoute, ReferTo, ReferredBy, ReplyTo,
    Route, ServiceRoute, To,
};
pub use auth::{
    AuthParams, AuthenticationInfo, Authorization, Challenge, Credentials, ProxyAuthenticate, ProxyAuthorization,
    WwwAuthenticate,
};
pub use event::{AcceptContact, Event, Identity, Reason, RejectContact, SubscriptionState};
pub use info::{AlertInfo, CallInfo, ErrorInfo, IdentityInfo};
pub use media::{Accept, AcceptEncoding, AcceptLanguage, ContentDisposition, ContentType, MediaType};
pub(crate) use numeric::decode_content_length;
pub use numeric::{
    CSeq, ContentLength, Expires, MAX_CSEQ, MaxForwards, MimeVersion, MinExpires, MinSe, RAck, RSeq, Refresher,
    RetryAfter, SessionExpires, Timestamp,
};
pub use params::{Param, ParamIter, Params};
pub use text::{CallId, Date, InReplyTo, Organization, Priority, Server, Subject, UserAgent, Warning};
pub use tokens::{
    Allow, AllowEvents, ContentEncoding, ContentLanguage, Privacy, ProxyRequire, RequestDisposition, Require,
    Supported, Unsupported,
};
pub use via::{BRANCH_MAGIC_COOKIE, Transport, Via};

/// A header field with a typed form.
pub trait TypedHeader: Sized {
    /// The header field this type decodes.
    const NAME: HeaderName;

    /// Whether every value of the type writes a value that decodes: its text is private
    /// and only its decoder and its checked constructors make it. [`Header::typed`]
    /// then does not decode the written value again to check it.
    ///
    /// [`Header::typed`]: crate::Header::typed
    const WRITES_VALID: bool = false;

    /// Decodes one value: the whole field value, or one element of a list header.
    fn decode(value: &Bytes) -> Result<Self, DecodeError>;

    /// Writes the value.
    fn encode(&self, out: &mut BytesMut);

    /// The value as bytes.
    fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(64);
        self.encode(&mut out);
        out.freeze()
    }
}

/// Runs `f` over the whole of `value` and fails if it leaves anything but white space.
pub(crate) fn decode_all<T>(
    value: &[u8],
    f: impl FnOnce(&mut Cursor<'_>) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let mut c = Cursor::new(value);
    c.skip_sws();
    let out = f(&mut c)?;
    c.skip_sws();
    if !c.at_end() {
        return Err(c.error("unexpected text after the value"));
    }
    Ok(out)
}

/// Whether an empty field value is allowed for a list header of this kind (the lists
/// defined as `[ element *( COMMA element ) ]`).
pub(crate) fn list_may_be_empty(name: &HeaderName) -> bool {
    use crate::name::Known;
    matches!(
        name.kind(),
        Some(Known::Accept | Known::AcceptEncoding | Known::AcceptLanguage | Known::Allow | Known::Supported)
    )
}

/// Checks a value of the known header `name` against its grammar.
pub(crate) fn validate_value(name: &HeaderName, value: &Bytes) -> Result<(), DecodeError> {
    use crate::name::Known as K;
    fn check<H: TypedHeader>(v: &Bytes) -> Result<(), DecodeError> {
        H::decode(v).map(drop)
    }
    let Some(kind) = name.kind() else {
        return Ok(());
    };
    match kind {
        K::Accept => check::<Accept>(value),
        K::AcceptContact => check::<AcceptContact>(value),
        K::AcceptEncoding => check::<AcceptEncoding>(value),
        K::AcceptLanguage => check::<AcceptLanguage>(value),
        K::AlertInfo => check::<AlertInfo>(value),
        K::Allow => check::<Allow>(value),
        K::AllowEvents => check::<AllowEvents>(value),
        K::AuthenticationInfo => check::<AuthenticationInfo>(value),
        K::Authorization => check::<Authorization>(value),
        K::CallId => check::<CallId>(value),
        K::CallInfo => check::<CallInfo>(value),
        K::Contact => check::<Contact>(value),
        K::ContentDisposition => check::<ContentDisposition>(value),
        K::ContentEncoding => check::<ContentEncoding>(value),
        K::ContentLanguage => check::<ContentLanguage>(value),
        K::ContentLength => check::<ContentLength>(value),
        K::ContentType => check::<ContentType>(value),
        K::CSeq => check::<CSeq>(value),
        K::Date => check::<Date>(value),
        K::ErrorInfo => check::<ErrorInfo>(value),
        K::Event => check::<Event>(value),
        K::Expires => check::<Expires>(value),
        K::From => check::<From>(value),
        K::Identity => check::<Identity>(value),
        K::IdentityInfo => check::<IdentityInfo>(value),
        K::InReplyTo => check::<InReplyTo>(value),
        K::MaxForwards => check::<MaxForwards>(value),
        K::MimeVersion => check::<MimeVersion>(value),
        K::MinExpires => check::<MinExpires>(value),
        K::MinSe => check::<MinSe>(value),
        K::Organization => check::<Organization>(value),
        K::PAssertedIdentity => check::<PAssertedIdentity>(value),
        K::PPreferredIdentity => check::<PPreferredIdentity>(value),
        K::Path => check::<Path>(value),
        K::Priority => check::<Priority>(value),
        K::Privacy => check::<Privacy>(value),
        K::ProxyAuthenticate => check::<ProxyAuthenticate>(value),
        K::ProxyAuthorization => check::<ProxyAuthorization>(value),
        K::ProxyRequire => check::<ProxyRequire>(value),
        K::RAck => check::<RAck>(value),
        K::Reason => check::<Reason>(value),
        K::RecordRoute => check::<RecordRoute>(value),
        K::ReferTo => check::<ReferTo>(value),
        K::ReferredBy => check::<ReferredBy>(value),
        K::RejectContact => check::<RejectContact>(value),
        K::ReplyTo => check::<ReplyTo>(value),
        K::RequestDisposition => check::<RequestDisposition>(value),
        K::Require => check::<Require>(value),
        K::RetryAfter => check::<RetryAfter>(value),
        K::Route => check::<Route>(value),
        K::RSeq => check::<RSeq>(value),
        K::Server => check::<Server>(value),
        K::ServiceRoute => check::<ServiceRoute>(value),
        K::SessionExpires => check::<SessionExpires>(value),
        K::Subject => check::<Subject>(value),
        K::SubscriptionState => check::<SubscriptionState>(value),
        K::Supported => check::<Supported>(value),
        K::Timestamp => check::<Timestamp>(value),
        K::To => check::<To>(value),
        K::Unsupported => check::<Unsupported>(value),
        K::UserAgent => check::<UserAgent>(value),
        K::Via => check::<Via>(value),
        K::Warning => check::<Warning>(value),
        K::WwwAuthenticate => check::<WwwAuthenticate>(value),
    }
}
