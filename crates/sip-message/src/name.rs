//! Header field names: case-insensitive, with the compact forms of §7.3.3 folded in.

use std::fmt;
use std::hash::{Hash, Hasher};

use bytes::Bytes;

/// The header fields this crate knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Known {
    Accept,
    AcceptContact,
    AcceptEncoding,
    AcceptLanguage,
    AlertInfo,
    Allow,
    AllowEvents,
    AuthenticationInfo,
    Authorization,
    CallId,
    CallInfo,
    Contact,
    ContentDisposition,
    ContentEncoding,
    ContentLanguage,
    ContentLength,
    ContentType,
    CSeq,
    Date,
    ErrorInfo,
    Event,
    Expires,
    From,
    Identity,
    IdentityInfo,
    InReplyTo,
    MaxForwards,
    MimeVersion,
    MinExpires,
    MinSe,
    Organization,
    PAssertedIdentity,
    PPreferredIdentity,
    Path,
    Priority,
    Privacy,
    ProxyAuthenticate,
    ProxyAuthorization,
    ProxyRequire,
    RAck,
    Reason,
    RecordRoute,
    ReferTo,
    ReferredBy,
    RejectContact,
    ReplyTo,
    RequestDisposition,
    Require,
    RetryAfter,
    Route,
    RSeq,
    Server,
    ServiceRoute,
    SessionExpires,
    Subject,
    SubscriptionState,
    Supported,
    Timestamp,
    To,
    Unsupported,
    UserAgent,
    Via,
    Warning,
    WwwAuthenticate,
}

/// How a header field may repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multiplicity {
    /// One value per message (Call-ID, CSeq, From, To, ...); a second, different value is an error.
    Single,
    /// A comma-separated list; the values of all fields of that name form one list (Via, Contact, ...).
    List,
    /// May appear in several fields, but a comma inside one field does not separate values
    /// (the authentication headers, whose parameters are comma-separated; unknown headers).
    Repeated,
}

impl Known {
    #[cfg(test)]
    pub(crate) const ALL: &'static [Self] = &[
        Self::Accept,
        Self::AcceptContact,
        Self::AcceptEncoding,
        Self::AcceptLanguage,
        Self::AlertInfo,
        Self::Allow,
        Self::AllowEvents,
        Self::AuthenticationInfo,
        Self::Authorization,
        Self::CallId,
        Self::CallInfo,
        Self::Contact,
        Self::ContentDisposition,
        Self::ContentEncoding,
        Self::ContentLanguage,
        Self::ContentLength,
        Self::ContentType,
        Self::CSeq,
        Self::Date,
        Self::ErrorInfo,
        Self::Event,
        Self::Expires,
        Self::From,
        Self::Identity,
        Self::IdentityInfo,
        Self::InReplyTo,
        Self::MaxForwards,
        Self::MimeVersion,
        Self::MinExpires,
        Self::MinSe,
        Self::Organization,
        Self::PAssertedIdentity,
        Self::PPreferredIdentity,
        Self::Path,
        Self::Priority,
        Self::Privacy,
        Self::ProxyAuthenticate,
        Self::ProxyAuthorization,
        Self::ProxyRequire,
        Self::RAck,
        Self::Reason,
        Self::RecordRoute,
        Self::ReferTo,
        Self::ReferredBy,
        Self::RejectContact,
        Self::ReplyTo,
        Self::RequestDisposition,
        Self::Require,
        Self::RetryAfter,
        Self::Route,
        Self::RSeq,
        Self::Server,
        Self::ServiceRoute,
        Self::SessionExpires,
        Self::Subject,
        Self::SubscriptionState,
        Self::Supported,
        Self::Timestamp,
        Self::To,
        Self::Unsupported,
        Self::UserAgent,
        Self::Via,
        Self::Warning,
        Self::WwwAuthenticate,
    ];

    pub(crate) const fn canonical(self) -> &'static str {
        CANONICAL[self as usize]
    }

    pub(crate) const fn compact(self) -> Option<&'static str> {
        match self {
            Self::AcceptContact => Some("a"),
            Self::AllowEvents => Some("u"),
            Self::CallId => Some("i"),
            Self::Contact => Some("m"),
            Self::ContentEncoding => Some("e"),
            Self::ContentLength => Some("l"),
            Self::ContentType => Some("c"),
            Self::Event => Some("o"),
            Self::From => Some("f"),
            Self::Identity => Some("y"),
            Self::IdentityInfo => Some("n"),
            Self::ReferTo => Some("r"),
            Self::ReferredBy => Some("b"),
            Self::RejectContact => Some("j"),
            Self::RequestDisposition => Some("d"),
            Self::SessionExpires => Some("x"),
            Self::Subject => Some("s"),
            Self::Supported => Some("k"),
            Self::To => Some("t"),
            Self::Via => Some("v"),
            _ => None,
        }
    }

    /// This header's bit in a set of known headers held as one `u64` (there are 64).
    #[inline]
    pub(crate) const fn bit(self) -> u64 {
        const { assert!(CANONICAL.len() <= 64, "a set of known headers is one u64") };
        1 << (self as u32)
    }

    pub(crate) const fn multiplicity(self) -> Multiplicity {
        match self {
            Self::AuthenticationInfo
            | Self::CallId
            | Self::ContentDisposition
            | Self::ContentLength
            | Self::ContentType
            | Self::CSeq
            | Self::Date
            | Self::Event
            | Self::Expires
            | Self::From
            | Self::Identity
            | Self::IdentityInfo
            | Self::MaxForwards
            | Self::MimeVersion
            | Self::MinExpires
            | Self::MinSe
            | Self::Organization
            | Self::Priority
            | Self::Privacy
            | Self::RAck
            | Self::ReferTo
            | Self::ReferredBy
            | Self::ReplyTo
            | Self::RetryAfter
            | Self::RSeq
            | Self::Server
            | Self::SessionExpires
            | Self::Subject
            | Self::SubscriptionState
            | Self::Timestamp
            | Self::To
            | Self::UserAgent => Multiplicity::Single,
            Self::Authorization | Self::ProxyAuthenticate | Self::ProxyAuthorization | Self::WwwAuthenticate => {
                Multiplicity::Repeated
            }
            _ => Multiplicity::List,
        }
    }
}

fn compact(b: u8) -> Option<Known> {
    match b {
        b'a' | b'A' => Some(Known::AcceptContact),
        b'u' | b'U' => Some(Known::AllowEvents),
        b'i' | b'I' => Some(Known::CallId),
        b'm' | b'M' => Some(Known::Contact),
        b'e' | b'E' => Some(Known::ContentEncoding),
        b'l' | b'L' => Some(Known::ContentLength),
        b'c' | b'C' => Some(Known::ContentType),
        b'o' | b'O' => Some(Known::Event),
        b'f' | b'F' => Some(Known::From),
        b'y' | b'Y' => Some(Known::Identity),
        b'n' | b'N' => Some(Known::IdentityInfo),
        b'r' | b'R' => Some(Known::ReferTo),
        b'b' | b'B' => Some(Known::ReferredBy),
        b'j' | b'J' => Some(Known::RejectContact),
        b'd' | b'D' => Some(Known::RequestDisposition),
        b'x' | b'X' => Some(Known::SessionExpires),
        b's' | b'S' => Some(Known::Subject),
        b'k' | b'K' => Some(Known::Supported),
        b't' | b'T' => Some(Known::To),
        b'v' | b'V' => Some(Known::Via),
        _ => None,
    }
}

/// The longest known header name.
const MAX_KNOWN_LEN: usize = 24;

/// A name of at most [`MAX_KNOWN_LEN`] bytes as three little-endian words, zero-padded,
/// with bit 5 of every byte set: for a token this folds letters to lower case and changes
/// no other character into a letter or `-`, so equal keys mean names equal without regard
/// to case.
const fn key(name: &str) -> [u64; 3] {
    let mut k = words(name);
    k[0] |= 0x2020_2020_2020_2020;
    k[1] |= 0x2020_2020_2020_2020;
    k[2] |= 0x2020_2020_2020_2020;
    k
}

/// The canonical names, in the order of [`Known`].
const CANONICAL: [&str; 64] = [
    "Accept",
    "Accept-Contact",
    "Accept-Encoding",
    "Accept-Language",
    "Alert-Info",
    "Allow",
    "Allow-Events",
    "Authentication-Info",
    "Authorization",
    "Call-ID",
    "Call-Info",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Language",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Error-Info",
    "Event",
    "Expires",
    "From",
    "Identity",
    "Identity-Info",
    "In-Reply-To",
    "Max-Forwards",
    "MIME-Version",
    "Min-Expires",
    "Min-SE",
    "Organization",
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Path",
    "Priority",
    "Privacy",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "RAck",
    "Reason",
    "Record-Route",
    "Refer-To",
    "Referred-By",
    "Reject-Contact",
    "Reply-To",
    "Request-Disposition",
    "Require",
    "Retry-After",
    "Route",
    "RSeq",
    "Server",
    "Service-Route",
    "Session-Expires",
    "Subject",
    "Subscription-State",
    "Supported",
    "Timestamp",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
];

/// The canonical names as words, unfolded, to recognise the canonical spelling.
static CANONICAL_WORDS: [[u64; 3]; CANONICAL.len()] = {
    let mut t = [[0u64; 3]; CANONICAL.len()];
    let mut i = 0;
    while i < CANONICAL.len() {
        t[i] = words(CANONICAL[i]);
        i += 1;
    }
    t
};

/// The first [`MAX_KNOWN_LEN`] bytes of `name` as three little-endian words, zero-padded.
const fn words(name: &str) -> [u64; 3] {
    let b = name.as_bytes();
    let mut k = [0u64; 3];
    let mut i = 0;
    while i < b.len() && i < MAX_KNOWN_LEN {
        k[i / 8] |= (b[i] as u64) << ((i % 8) * 8);
        i += 1;
    }
    k
}

/// `name` as zero-padded words.
#[inline]
fn runtime_words(name: &[u8]) -> [u64; 3] {
    let mut buf = [0u8; MAX_KNOWN_LEN];
    let n = name.len().min(MAX_KNOWN_LEN);
    buf[..n].copy_from_slice(&name[..n]);
    let word = |i: usize| {
        u64::from_le_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3], buf[i + 4], buf[i + 5], buf[i + 6], buf[i + 7]])
    };
    [word(0), word(8), word(16)]
}

/// For each name length up to [`MAX_KNOWN_LEN`], the masks keeping that many bytes of the
/// three words.
static LEN_MASKS: [[u64; 3]; MAX_KNOWN_LEN + 1] = {
    let mut t = [[0u64; 3]; MAX_KNOWN_LEN + 1];
    let mut len = 0;
    while len <= MAX_KNOWN_LEN {
        let mut i = 0;
        while i < len {
            t[len][i / 8] |= 0xff << ((i % 8) * 8);
            i += 1;
        }
        len += 1;
    }
    t
};

/// The first `len` bytes of a [`MAX_KNOWN_LEN`]-byte `window` as zero-padded words, read
/// in place instead of copied.
#[inline]
fn window_words(window: &[u8; MAX_KNOWN_LEN], len: usize) -> [u64; 3] {
    let mask = &LEN_MASKS[len.min(MAX_KNOWN_LEN)];
    let word = |i: usize| {
        let w = [
            window[i * 8],
            window[i * 8 + 1],
            window[i * 8 + 2],
            window[i * 8 + 3],
            window[i * 8 + 4],
            window[i * 8 + 5],
            window[i * 8 + 6],
            window[i * 8 + 7],
        ];
        u64::from_le_bytes(w) & mask[i]
    };
    [word(0), word(1), word(2)]
}

/// Recognises a known name and whether it is spelled canonically.
#[inline]
fn classify_spelling(name: &[u8]) -> (Option<Known>, bool) {
    if name.len() > MAX_KNOWN_LEN {
        return (None, false);
    }
    classify_words(name.len(), runtime_words(name))
}

/// Recognises a known name of `len` bytes given as zero-padded words.
#[inline]
fn classify_words(len: usize, raw: [u64; 3]) -> (Option<Known>, bool) {
    const FOLD: u64 = 0x2020_2020_2020_2020;
    let known = classify_key(len, [raw[0] | FOLD, raw[1] | FOLD, raw[2] | FOLD]);
    let canonical = known.is_some_and(|k| CANONICAL[k as usize].len() == len && CANONICAL_WORDS[k as usize] == raw);
    (known, canonical)
}

/// Recognises a known header name, long or compact, in any letter case. `name` must be a
/// token (see [`key`]).
pub(crate) fn classify(name: &[u8]) -> Option<Known> {
    classify_spelling(name).0
}

fn classify_key(len: usize, k: [u64; 3]) -> Option<Known> {
    match len {
        // The folded byte of a one-letter token is its lower-case letter.
        1 => compact(k[0] as u8),
        2 => {
            if k[0] == const { key("To")[0] } {
                Some(Known::To)
            } else {
                None
            }
        }
        3 => {
            if k[0] == const { key("Via")[0] } {
                Some(Known::Via)
            } else {
                None
            }
        }
        4 => {
            if k[0] == const { key("CSeq")[0] } {
                Some(Known::CSeq)
            } else if k[0] == const { key("Date")[0] } {
                Some(Known::Date)
            } else if k[0] == const { key("From")[0] } {
                Some(Known::From)
            } else if k[0] == const { key("Path")[0] } {
                Some(Known::Path)
            } else if k[0] == const { key("RAck")[0] } {
                Some(Known::RAck)
            } else if k[0] == const { key("RSeq")[0] } {
                Some(Known::RSeq)
            } else {
                None
            }
        }
        5 => {
            if k[0] == const { key("Allow")[0] } {
                Some(Known::Allow)
            } else if k[0] == const { key("Event")[0] } {
                Some(Known::Event)
            } else if k[0] == const { key("Route")[0] } {
                Some(Known::Route)
            } else {
                None
            }
        }
        6 => {
            if k[0] == const { key("Accept")[0] } {
                Some(Known::Accept)
            } else if k[0] == const { key("Min-SE")[0] } {
                Some(Known::MinSe)
            } else if k[0] == const { key("Reason")[0] } {
                Some(Known::Reason)
            } else if k[0] == const { key("Server")[0] } {
                Some(Known::Server)
            } else {
                None
            }
        }
        7 => {
            if k[0] == const { key("Call-ID")[0] } {
                Some(Known::CallId)
            } else if k[0] == const { key("Contact")[0] } {
                Some(Known::Contact)
            } else if k[0] == const { key("Expires")[0] } {
                Some(Known::Expires)
            } else if k[0] == const { key("Privacy")[0] } {
                Some(Known::Privacy)
            } else if k[0] == const { key("Require")[0] } {
                Some(Known::Require)
            } else if k[0] == const { key("Subject")[0] } {
                Some(Known::Subject)
            } else if k[0] == const { key("Warning")[0] } {
                Some(Known::Warning)
            } else {
                None
            }
        }
        8 => {
            if k[0] == const { key("Identity")[0] } {
                Some(Known::Identity)
            } else if k[0] == const { key("Priority")[0] } {
                Some(Known::Priority)
            } else if k[0] == const { key("Refer-To")[0] } {
                Some(Known::ReferTo)
            } else if k[0] == const { key("Reply-To")[0] } {
                Some(Known::ReplyTo)
            } else {
                None
            }
        }
        9 => {
            if k[0] == const { key("Call-Info")[0] } && k[1] == const { key("Call-Info")[1] } {
                Some(Known::CallInfo)
            } else if k[0] == const { key("Supported")[0] } && k[1] == const { key("Supported")[1] } {
                Some(Known::Supported)
            } else if k[0] == const { key("Timestamp")[0] } && k[1] == const { key("Timestamp")[1] } {
                Some(Known::Timestamp)
            } else {
                None
            }
        }
        10 => {
            if k[0] == const { key("Alert-Info")[0] } && k[1] == const { key("Alert-Info")[1] } {
                Some(Known::AlertInfo)
            } else if k[0] == const { key("Error-Info")[0] } && k[1] == const { key("Error-Info")[1] } {
                Some(Known::ErrorInfo)
            } else if k[0] == const { key("User-Agent")[0] } && k[1] == const { key("User-Agent")[1] } {
                Some(Known::UserAgent)
            } else {
                None
            }
        }
        11 => {
            if k[0] == const { key("In-Reply-To")[0] } && k[1] == const { key("In-Reply-To")[1] } {
                Some(Known::InReplyTo)
            } else if k[0] == const { key("Min-Expires")[0] } && k[1] == const { key("Min-Expires")[1] } {
                Some(Known::MinExpires)
            } else if k[0] == const { key("Referred-By")[0] } && k[1] == const { key("Referred-By")[1] } {
                Some(Known::ReferredBy)
            } else if k[0] == const { key("Retry-After")[0] } && k[1] == const { key("Retry-After")[1] } {
                Some(Known::RetryAfter)
            } else if k[0] == const { key("Unsupported")[0] } && k[1] == const { key("Unsupported")[1] } {
                Some(Known::Unsupported)
            } else {
                None
            }
        }
        12 => {
            if k[0] == const { key("Allow-Events")[0] } && k[1] == const { key("Allow-Events")[1] } {
                Some(Known::AllowEvents)
            } else if k[0] == const { key("Content-Type")[0] } && k[1] == const { key("Content-Type")[1] } {
                Some(Known::ContentType)
            } else if k[0] == const { key("Max-Forwards")[0] } && k[1] == const { key("Max-Forwards")[1] } {
                Some(Known::MaxForwards)
            } else if k[0] == const { key("MIME-Version")[0] } && k[1] == const { key("MIME-Version")[1] } {
                Some(Known::MimeVersion)
            } else if k[0] == const { key("Organization")[0] } && k[1] == const { key("Organization")[1] } {
                Some(Known::Organization)
            } else if k[0] == const { key("Record-Route")[0] } && k[1] == const { key("Record-Route")[1] } {
                Some(Known::RecordRoute)
            } else {
                None
            }
        }
        13 => {
            if k[0] == const { key("Authorization")[0] } && k[1] == const { key("Authorization")[1] } {
                Some(Known::Authorization)
            } else if k[0] == const { key("Identity-Info")[0] } && k[1] == const { key("Identity-Info")[1] } {
                Some(Known::IdentityInfo)
            } else if k[0] == const { key("Proxy-Require")[0] } && k[1] == const { key("Proxy-Require")[1] } {
                Some(Known::ProxyRequire)
            } else if k[0] == const { key("Service-Route")[0] } && k[1] == const { key("Service-Route")[1] } {
                Some(Known::ServiceRoute)
            } else {
                None
            }
        }
        14 => {
            if k[0] == const { key("Accept-Contact")[0] } && k[1] == const { key("Accept-Contact")[1] } {
                Some(Known::AcceptContact)
            } else if k[0] == const { key("Content-Length")[0] } && k[1] == const { key("Content-Length")[1] } {
                Some(Known::ContentLength)
            } else if k[0] == const { key("Reject-Contact")[0] } && k[1] == const { key("Reject-Contact")[1] } {
                Some(Known::RejectContact)
            } else {
                None
            }
        }
        15 => {
            if k[0] == const { key("Accept-Encoding")[0] } && k[1] == const { key("Accept-Encoding")[1] } {
                Some(Known::AcceptEncoding)
            } else if k[0] == const { key("Accept-Language")[0] } && k[1] == const { key("Accept-Language")[1] } {
                Some(Known::AcceptLanguage)
            } else if k[0] == const { key("Session-Expires")[0] } && k[1] == const { key("Session-Expires")[1] } {
                Some(Known::SessionExpires)
            } else {
                None
            }
        }
        16 => {
            if k[0] == const { key("Content-Encoding")[0] } && k[1] == const { key("Content-Encoding")[1] } {
                Some(Known::ContentEncoding)
            } else if k[0] == const { key("Content-Language")[0] } && k[1] == const { key("Content-Language")[1] } {
                Some(Known::ContentLanguage)
            } else if k[0] == const { key("WWW-Authenticate")[0] } && k[1] == const { key("WWW-Authenticate")[1] } {
                Some(Known::WwwAuthenticate)
            } else {
                None
            }
        }
        18 => {
            if k[0] == const { key("Proxy-Authenticate")[0] }
                && k[1] == const { key("Proxy-Authenticate")[1] }
                && k[2] == const { key("Proxy-Authenticate")[2] }
            {
                Some(Known::ProxyAuthenticate)
            } else if k[0] == const { key("Subscription-State")[0] }
                && k[1] == const { key("Subscription-State")[1] }
                && k[2] == const { key("Subscription-State")[2] }
            {
                Some(Known::SubscriptionState)
            } else {
                None
            }
        }
        19 => {
            if k[0] == const { key("Authentication-Info")[0] }
                && k[1] == const { key("Authentication-Info")[1] }
                && k[2] == const { key("Authentication-Info")[2] }
            {
                Some(Known::AuthenticationInfo)
            } else if k[0] == const { key("Content-Disposition")[0] }
                && k[1] == const { key("Content-Disposition")[1] }
                && k[2] == const { key("Content-Disposition")[2] }
            {
                Some(Known::ContentDisposition)
            } else if k[0] == const { key("P-Asserted-Identity")[0] }
                && k[1] == const { key("P-Asserted-Identity")[1] }
                && k[2] == const { key("P-Asserted-Identity")[2] }
            {
                Some(Known::PAssertedIdentity)
            } else if k[0] == const { key("Proxy-Authorization")[0] }
                && k[1] == const { key("Proxy-Authorization")[1] }
                && k[2] == const { key("Proxy-Authorization")[2] }
            {
                Some(Known::ProxyAuthorization)
            } else if k[0] == const { key("Request-Disposition")[0] }
                && k[1] == const { key("Request-Disposition")[1] }
                && k[2] == const { key("Request-Disposition")[2] }
            {
                Some(Known::RequestDisposition)
            } else {
                None
            }
        }
        20 => {
            if k[0] == const { key("P-Preferred-Identity")[0] }
                && k[1] == const { key("P-Preferred-Identity")[1] }
                && k[2] == const { key("P-Preferred-Identity")[2] }
            {
                Some(Known::PPreferredIdentity)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A header field name. Comparison ignores letter case and treats a compact form as its
/// long form (`v` equals `Via`); the name keeps the spelling it was received with, which is
/// what serialization writes back.
#[derive(Clone)]
pub struct HeaderName {
    known: Option<Known>,
    /// The name as received; `None` for a known name in its canonical spelling.
    spelling: Option<Bytes>,
}

impl HeaderName {
    pub(crate) const fn known(k: Known) -> Self {
        Self { known: Some(k), spelling: None }
    }

    /// `Accept`
    pub const ACCEPT: Self = Self::known(Known::Accept);
    /// `Accept-Contact` (compact form `a`)
    pub const ACCEPT_CONTACT: Self = Self::known(Known::AcceptContact);
    /// `Accept-Encoding`
    pub const ACCEPT_ENCODING: Self = Self::known(Known::AcceptEncoding);
    /// `Accept-Language`
    pub const ACCEPT_LANGUAGE: Self = Self::known(Known::AcceptLanguage);
    /// `Alert-Info`
    pub const ALERT_INFO: Self = Self::known(Known::AlertInfo);
    /// `Allow`
    pub const ALLOW: Self = Self::known(Known::Allow);
    /// `Allow-Events` (compact form `u`)
    pub const ALLOW_EVENTS: Self = Self::known(Known::AllowEvents);
    /// `Authentication-Info`
    pub const AUTHENTICATION_INFO: Self = Self::known(Known::AuthenticationInfo);
    /// `Authorization`
    pub const AUTHORIZATION: Self = Self::known(Known::Authorization);
    /// `Call-ID` (compact form `i`)
    pub const CALL_ID: Self = Self::known(Known::CallId);
    /// `Call-Info`
    pub const CALL_INFO: Self = Self::known(Known::CallInfo);
    /// `Contact` (compact form `m`)
    pub const CONTACT: Self = Self::known(Known::Contact);
    /// `Content-Disposition`
    pub const CONTENT_DISPOSITION: Self = Self::known(Known::ContentDisposition);
    /// `Content-Encoding` (compact form `e`)
    pub const CONTENT_ENCODING: Self = Self::known(Known::ContentEncoding);
    /// `Content-Language`
    pub const CONTENT_LANGUAGE: Self = Self::known(Known::ContentLanguage);
    /// `Content-Length` (compact form `l`)
    pub const CONTENT_LENGTH: Self = Self::known(Known::ContentLength);
    /// `Content-Type` (compact form `c`)
    pub const CONTENT_TYPE: Self = Self::known(Known::ContentType);
    /// `CSeq`
    pub const CSEQ: Self = Self::known(Known::CSeq);
    /// `Date`
    pub const DATE: Self = Self::known(Known::Date);
    /// `Error-Info`
    pub const ERROR_INFO: Self = Self::known(Known::ErrorInfo);
    /// `Event` (compact form `o`)
    pub const EVENT: Self = Self::known(Known::Event);
    /// `Expires`
    pub const EXPIRES: Self = Self::known(Known::Expires);
    /// `From` (compact form `f`)
    pub const FROM: Self = Self::known(Known::From);
    /// `Identity` (compact form `y`)
    pub const IDENTITY: Self = Self::known(Known::Identity);
    /// `Identity-Info` (compact form `n`)
    pub const IDENTITY_INFO: Self = Self::known(Known::IdentityInfo);
    /// `In-Reply-To`
    pub const IN_REPLY_TO: Self = Self::known(Known::InReplyTo);
    /// `Max-Forwards`
    pub const MAX_FORWARDS: Self = Self::known(Known::MaxForwards);
    /// `MIME-Version`
    pub const MIME_VERSION: Self = Self::known(Known::MimeVersion);
    /// `Min-Expires`
    pub const MIN_EXPIRES: Self = Self::known(Known::MinExpires);
    /// `Min-SE`
    pub const MIN_SE: Self = Self::known(Known::MinSe);
    /// `Organization`
    pub const ORGANIZATION: Self = Self::known(Known::Organization);
    /// `P-Asserted-Identity`
    pub const P_ASSERTED_IDENTITY: Self = Self::known(Known::PAssertedIdentity);
    /// `P-Preferred-Identity`
    pub const P_PREFERRED_IDENTITY: Self = Self::known(Known::PPreferredIdentity);
    /// `Path`
    pub const PATH: Self = Self::known(Known::Path);
    /// `Priority`
    pub const PRIORITY: Self = Self::known(Known::Priority);
    /// `Privacy`
    pub const PRIVACY: Self = Self::known(Known::Privacy);
    /// `Proxy-Authenticate`
    pub const PROXY_AUTHENTICATE: Self = Self::known(Known::ProxyAuthenticate);
    /// `Proxy-Authorization`
    pub const PROXY_AUTHORIZATION: Self = Self::known(Known::ProxyAuthorization);
    /// `Proxy-Require`
    pub const PROXY_REQUIRE: Self = Self::known(Known::ProxyRequire);
    /// `RAck`
    pub const RACK: Self = Self::known(Known::RAck);
    /// `Reason`
    pub const REASON: Self = Self::known(Known::Reason);
    /// `Record-Route`
    pub const RECORD_ROUTE: Self = Self::known(Known::RecordRoute);
    /// `Refer-To` (compact form `r`)
    pub const REFER_TO: Self = Self::known(Known::ReferTo);
    /// `Referred-By` (compact form `b`)
    pub const REFERRED_BY: Self = Self::known(Known::ReferredBy);
    /// `Reject-Contact` (compact form `j`)
    pub const REJECT_CONTACT: Self = Self::known(Known::RejectContact);
    /// `Reply-To`
    pub const REPLY_TO: Self = Self::known(Known::ReplyTo);
    /// `Request-Disposition` (compact form `d`)
    pub const REQUEST_DISPOSITION: Self = Self::known(Known::RequestDisposition);
    /// `Require`
    pub const REQUIRE: Self = Self::known(Known::Require);
    /// `Retry-After`
    pub const RETRY_AFTER: Self = Self::known(Known::RetryAfter);
    /// `Route`
    pub const ROUTE: Self = Self::known(Known::Route);
    /// `RSeq`
    pub const RSEQ: Self = Self::known(Known::RSeq);
    /// `Server`
    pub const SERVER: Self = Self::known(Known::Server);
    /// `Service-Route`
    pub const SERVICE_ROUTE: Self = Self::known(Known::ServiceRoute);
    /// `Session-Expires` (compact form `x`)
    pub const SESSION_EXPIRES: Self = Self::known(Known::SessionExpires);
    /// `Subject` (compact form `s`)
    pub const SUBJECT: Self = Self::known(Known::Subject);
    /// `Subscription-State`
    pub const SUBSCRIPTION_STATE: Self = Self::known(Known::SubscriptionState);
    /// `Supported` (compact form `k`)
    pub const SUPPORTED: Self = Self::known(Known::Supported);
    /// `Timestamp`
    pub const TIMESTAMP: Self = Self::known(Known::Timestamp);
    /// `To` (compact form `t`)
    pub const TO: Self = Self::known(Known::To);
    /// `Unsupported`
    pub const UNSUPPORTED: Self = Self::known(Known::Unsupported);
    /// `User-Agent`
    pub const USER_AGENT: Self = Self::known(Known::UserAgent);
    /// `Via` (compact form `v`)
    pub const VIA: Self = Self::known(Known::Via);
    /// `Warning`
    pub const WARNING: Self = Self::known(Known::Warning);
    /// `WWW-Authenticate`
    pub const WWW_AUTHENTICATE: Self = Self::known(Known::WwwAuthenticate);

    /// The name as received; a known name is recognised in any case and compact form.
    /// Returns `None` unless `name` is a `token`.
    pub fn from_bytes(name: Bytes) -> Option<Self> {
        if !crate::lex::is_token(&name) {
            return None;
        }
        Some(Self::from_token(name))
    }

    /// Like [`HeaderName::from_bytes`] for a name already checked to be a token.
    pub(crate) fn from_token(name: Bytes) -> Self {
        let (known, canonical) = classify_spelling(&name);
        // The canonical spelling needs no reference to the received buffer.
        Self { known, spelling: if canonical { None } else { Some(name) } }
    }

    /// The name at `range` of a received buffer, already checked to be a token; a name in
    /// its canonical spelling keeps no reference to the buffer.
    #[inline]
    pub(crate) fn from_received(buf: &Bytes, range: std::ops::Range<usize>) -> Self {
        let len = range.len();
        let window =
            buf.get(range.start..range.start + MAX_KNOWN_LEN).and_then(|w| <&[u8; MAX_KNOWN_LEN]>::try_from(w).ok());
        let (known, canonical) = match window {
            // The common case: enough bytes follow to read the words in place.
            Some(window) if len <= MAX_KNOWN_LEN => classify_words(len, window_words(window, len)),
            _ => classify_spelling(&buf[range.clone()]),
        };
        Self { known, spelling: if canonical { None } else { Some(buf.slice(range)) } }
    }

    /// A name from a static string, e.g. `HeaderName::from_static("X-Custom")`.
    ///
    /// # Panics
    /// When `name` is not a `token` (a programming error, not input).
    pub fn from_static(name: &'static str) -> Self {
        assert!(crate::lex::is_token(name.as_bytes()), "header name must be a token");
        Self::from_token(Bytes::from_static(name.as_bytes()))
    }

    /// The canonical name for a known header (`Via` for `v`), else the name as received.
    pub fn as_str(&self) -> &str {
        match self.known {
            Some(k) => k.canonical(),
            None => crate::lex::ascii(self.spelling()),
        }
    }

    /// The name exactly as received (or as constructed).
    pub fn spelling(&self) -> &[u8] {
        match (&self.spelling, self.known) {
            (Some(s), _) => s,
            (None, Some(k)) => k.canonical().as_bytes(),
            (None, None) => &[],
        }
    }

    /// The compact form of §7.3.3 and its extensions, if the name has one.
    pub fn compact_form(&self) -> Option<&'static str> {
        self.known.and_then(Known::compact)
    }

    /// Whether this is one of the header fields the crate decodes.
    pub fn is_known(&self) -> bool {
        self.known.is_some()
    }

    /// How the header field may repeat; unknown headers are [`Multiplicity::Repeated`].
    pub fn multiplicity(&self) -> Multiplicity {
        self.known.map_or(Multiplicity::Repeated, Known::multiplicity)
    }

    /// The same name with its canonical spelling (`Via` for `v`, as received for unknown names).
    pub fn canonical(&self) -> Self {
        match self.known {
            Some(k) => Self::known(k),
            None => self.clone(),
        }
    }

    pub(crate) fn kind(&self) -> Option<Known> {
        self.known
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &Self) -> bool {
        match (self.known, other.known) {
            (Some(a), Some(b)) => a == b,
            (None, None) => self.spelling().eq_ignore_ascii_case(other.spelling()),
            _ => false,
        }
    }
}

impl Eq for HeaderName {}

impl Hash for HeaderName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.known {
            Some(k) => {
                0u8.hash(state);
                k.hash(state);
            }
            None => {
                1u8.hash(state);
                for b in self.spelling() {
                    b.to_ascii_lowercase().hash(state);
                }
            }
        }
    }
}

impl fmt::Debug for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_and_compact_form_classifies() {
        for &k in Known::ALL {
            assert_eq!(classify(k.canonical().as_bytes()), Some(k), "{}", k.canonical());
            assert_eq!(classify(k.canonical().to_ascii_lowercase().as_bytes()), Some(k));
            assert_eq!(classify(k.canonical().to_ascii_uppercase().as_bytes()), Some(k));
            if let Some(c) = k.compact() {
                assert_eq!(classify(c.as_bytes()), Some(k));
                assert_eq!(classify(c.to_ascii_uppercase().as_bytes()), Some(k));
            }
        }
        let compacts: Vec<_> = Known::ALL.iter().filter_map(|k| k.compact()).collect();
        let mut sorted = compacts.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), compacts.len(), "compact forms are unique");
        assert_eq!(compacts.len(), 20);
    }

    /// The folded keys classify exactly the names equal without regard to case.
    #[test]
    fn keys_match_case_insensitive_equality_on_tokens() {
        let tokens: Vec<u8> = (0u8..=255).filter(|&b| crate::lex::is(b, crate::lex::TOKEN)).collect();
        for &k in Known::ALL {
            let canon = k.canonical().as_bytes();
            for pos in 0..canon.len() {
                for &t in &tokens {
                    let mut name = canon.to_vec();
                    name[pos] = t;
                    let want = if name.eq_ignore_ascii_case(canon) { Some(k) } else { None };
                    let got = classify(&name);
                    assert!(
                        got == want
                            || (want.is_none()
                                && got.is_some_and(|g| name.eq_ignore_ascii_case(g.canonical().as_bytes()))),
                        "{:?}",
                        String::from_utf8_lossy(&name)
                    );
                }
            }
        }
        assert_eq!(classify(b"X-Custom-Header-That-Is-Long"), None);
    }

    /// The word-reading fast path of `from_received` agrees with the copying one.
    #[test]
    fn received_names_classify_like_tokens() {
        let mut names: Vec<String> = Known::ALL.iter().map(|k| k.canonical().to_string()).collect();
        names.extend(Known::ALL.iter().map(|k| k.canonical().to_ascii_lowercase()));
        names.extend(Known::ALL.iter().filter_map(|k| k.compact().map(str::to_string)));
        names.extend(["X-Custom", "Vias", "Vi", "Contact-X", "P-Asserted-Identity-Extra"].map(str::to_string));
        for name in names {
            for padding in [0usize, 1, 30] {
                let text = format!("{}{name}: value\r\n{}", " ".repeat(padding), "x".repeat(padding));
                let buf = Bytes::from(text);
                let fast = HeaderName::from_received(&buf, padding..padding + name.len());
                let slow = HeaderName::from_token(Bytes::from(name.clone()));
                assert_eq!(fast, slow, "{name}");
                assert_eq!(fast.kind(), slow.kind(), "{name}");
                assert_eq!(fast.spelling(), name.as_bytes());
                assert_eq!(fast.spelling.is_none(), slow.spelling.is_none(), "{name}");
            }
        }
    }

    #[test]
    fn canonical_table_follows_the_enum() {
        assert_eq!(Known::ALL.len(), CANONICAL.len());
        for (i, &k) in Known::ALL.iter().enumerate() {
            assert_eq!(k as usize, i, "Known::ALL is in declaration order");
            assert_eq!(classify_spelling(k.canonical().as_bytes()), (Some(k), true));
            assert_eq!(
                classify_spelling(k.canonical().to_ascii_lowercase().as_bytes()).1,
                k.canonical() == k.canonical().to_ascii_lowercase()
            );
        }
    }

    #[test]
    fn equality_ignores_case_and_compact_form() {
        let v = HeaderName::from_static("v");
        assert_eq!(v, HeaderName::VIA);
        assert_eq!(v.as_str(), "Via");
        assert_eq!(v.spelling(), b"v");
        assert_eq!(HeaderName::from_static("X-Foo"), HeaderName::from_static("x-fOO"));
        assert_ne!(HeaderName::from_static("X-Foo"), HeaderName::VIA);
        assert_eq!(classify(b"C%6Fntact"), None);
        assert!(HeaderName::from_bytes(Bytes::from_static(b"Bad Name")).is_none());
    }
}
