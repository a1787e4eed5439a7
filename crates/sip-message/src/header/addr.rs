//! Headers whose values are addresses: `name-addr` or `addr-spec` with header parameters
//! (From, To, Contact, Route, Record-Route, Path, Reply-To, Refer-To, ...).

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::params::{ScannedValue, scan_params_checked, write_params_with, write_params_without};
use super::{Params, TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex::{self, Cursor, Span};
use crate::name::HeaderName;
use crate::uri::{Uri, UriContext, scan_uri};

/// Which forms of address a header allows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddrForm {
    /// `name-addr / addr-spec` (From, To, Contact, Reply-To, Refer-To, ...).
    Any,
    /// `name-addr` only (Route, Record-Route, Path, Service-Route).
    NameAddrOnly,
}

/// An address with its header parameters: `"Alice" <sip:alice@example.com>;tag=1928`.
///
/// When the URI is not in angle brackets (`addr-spec` form), everything after the first `;`
/// is a header parameter, never a URI parameter (§20.10).
#[derive(Clone)]
pub struct NameAddr {
    text: Bytes,
    display: Span,
    uri: Uri,
    params: Span,
    /// The value of the first `tag` parameter when it is not a quoted string (what
    /// [`Param::token`](super::Param::token) gives), found once: From and To tags are read
    /// for every message.
    tag: Span,
}

impl NameAddr {
    /// An address for `uri` with no display name and no parameters.
    pub fn new(uri: impl Into<Uri>) -> Self {
        let uri = uri.into();
        Self::build(None, &uri, b"")
    }

    /// Writes `[display ]<uri>params` and decodes it back.
    fn build(display: Option<&[u8]>, uri: &Uri, params: &[u8]) -> Self {
        let mut out = BytesMut::with_capacity(Self::head_len(display, uri) + params.len());
        let display_span = Self::write_head(&mut out, display, uri);
        let params_start = out.len();
        out.put_slice(params);
        let params_span = Span::of(params_start..out.len());
        let text = out.freeze();
        let tag = tag_span(&text, params_span);
        Self { text, display: display_span, uri: uri.clone(), params: params_span, tag }
    }

    /// The length of `[display ]<uri>`.
    fn head_len(display: Option<&[u8]>, uri: &Uri) -> usize {
        display.map_or(0, |d| d.len() + 1) + uri.as_bytes().len() + 2
    }

    /// Writes `[display ]<uri>`; the display name's span.
    fn write_head(out: &mut BytesMut, display: Option<&[u8]>, uri: &Uri) -> Span {
        let mut display_span = Span::NONE;
        if let Some(d) = display {
            display_span = Span::of(out.len()..out.len() + d.len());
            out.put_slice(d);
            out.put_u8(b' ');
        }
        out.put_u8(b'<');
        out.put_slice(uri.as_bytes());
        out.put_u8(b'>');
        display_span
    }

    /// Decodes a whole value.
    pub(crate) fn decode_value(value: &Bytes, form: AddrForm) -> Result<Self, DecodeError> {
        decode_all(value, |c| Self::scan(c, value, form, |_, _| true))
    }

    /// Scans an address and its parameters at the cursor over `src`; the spans are offsets
    /// in `src`, which becomes the address's text.
    fn scan(
        c: &mut Cursor<'_>,
        src: &Bytes,
        form: AddrForm,
        mut check: impl FnMut(&[u8], Option<ScannedValue<'_>>) -> bool,
    ) -> Result<Self, DecodeError> {
        // The first `tag` parameter, noted as the parameters are scanned: its value when
        // that is not a quoted string (what `Param::token` gives).
        let mut tag = None;
        let mut check = |name: &[u8], v: Option<ScannedValue<'_>>| {
            note_tag(&mut tag, name, v);
            check(name, v)
        };
        let start = c.pos;
        let mut display = Span::NONE;
        match c.peek() {
            Some(b'"') => {
                display = Span::of(c.quoted_string()?);
                c.skip_sws();
                if c.peek() != Some(b'<') {
                    return Err(c.error("expected '<' after the display name"));
                }
            }
            Some(b'<') => {}
            _ => {
                // display-name = *(token LWS): a run of tokens followed by '<'; anything
                // else is an addr-spec. (No LWS before '<' is accepted: RFC 4475 §3.1.1.6.)
                let mut end = None;
                while c.token().is_some() {
                    end = Some(c.pos);
                    c.skip_sws();
                }
                if c.peek() == Some(b'<') {
                    if let Some(e) = end {
                        display = Span::of(start..e);
                    }
                } else {
                    c.pos = start;
                    if form == AddrForm::NameAddrOnly {
                        return Err(c.error("expected '<'"));
                    }
                    let (uri, end) = scan_uri(src, c.pos, src.len(), UriContext::Unbracketed)?;
                    c.pos = end;
                    let params = scan_params_checked(c, &mut check)?;
                    return Ok(Self { text: src.clone(), display, uri, params, tag: tag.unwrap_or(Span::NONE) });
                }
            }
        }
        // at '<'
        let (uri, end) = scan_uri(src, c.pos + 1, src.len(), UriContext::Bracketed)?;
        if src.get(end) != Some(&b'>') {
            return Err(DecodeError::new("expected '>' after the URI", end));
        }
        c.pos = end + 1;
        let params = scan_params_checked(c, &mut check)?;
        Ok(Self { text: src.clone(), display, uri, params, tag: tag.unwrap_or(Span::NONE) })
    }

    /// The `tag` parameter of a From or To field value, found without decoding the
    /// address: the display name and the bracketed URI are skipped, not checked (a URI
    /// in angle brackets holds no `>`; an addr-spec ends at its first `;`, §20.10). For
    /// matching a message to its dialog on the hot path; decode the header to check it.
    pub fn tag_of(value: &Bytes) -> Result<Option<Bytes>, DecodeError> {
        let range = decode_all(value, |c| {
            if c.peek() == Some(b'"') {
                c.quoted_string()?;
                c.skip_sws();
            }
            let rest = &value[c.pos..];
            let bracket = memchr::memchr(b'<', rest);
            let semicolon = memchr::memchr(b';', rest);
            match (bracket, semicolon) {
                (Some(open), semi) if semi.is_none_or(|s| open < s) => {
                    let close = memchr::memchr(b'>', &rest[open..]).ok_or_else(|| c.error("expected '>'"))?;
                    c.pos += open + close + 1;
                }
                (_, Some(semi)) => c.pos += semi,
                (_, None) => c.pos = value.len(),
            }
            // The first `tag` parameter, taken as the parameters are scanned (once): its
            // value when that is a token.
            let mut tag: Option<Option<std::ops::Range<usize>>> = None;
            scan_params_checked(c, |name, v| {
                if tag.is_none() && name.eq_ignore_ascii_case(b"tag") {
                    tag = Some(v.filter(|v| v.is_token).map(|v| v.at..v.end()));
                }
                true
            })?;
            Ok(tag.flatten())
        })?;
        Ok(range.map(|r| value.slice(r)))
    }

    /// The display name as written (a quoted string keeps its quotes and escapes).
    pub fn display_name_raw(&self) -> Option<&[u8]> {
        self.display.get(&self.text)
    }

    /// The display name as text: unquoted, unescaped, UTF-8 errors replaced.
    pub fn display_name(&self) -> Option<Cow<'_, str>> {
        self.display_name_raw().map(|d| {
            if d.first() == Some(&b'"') {
                Cow::Owned(String::from_utf8_lossy(&lex::unquote(d)).into_owned())
            } else {
                String::from_utf8_lossy(d)
            }
        })
    }

    /// The URI.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The header parameters.
    pub fn params(&self) -> Params<'_> {
        Params::new(self.params.of_text(&self.text))
    }

    /// The `tag` parameter (From, To).
    pub fn tag(&self) -> Option<&str> {
        self.tag.get(&self.text).map(lex::ascii)
    }

    /// The address as written.
    pub fn as_bytes(&self) -> &Bytes {
        &self.text
    }

    /// The same address in buffers of its own, not slices of the message it was parsed
    /// from; nothing is parsed again.
    pub fn detached(&self) -> Self {
        Self {
            text: Bytes::copy_from_slice(&self.text),
            display: self.display,
            uri: self.uri.detached(),
            params: self.params,
            tag: self.tag,
        }
    }

    /// The same address with a display name, written as a quoted string.
    pub fn with_display_name(&self, name: &str) -> Self {
        let mut d = BytesMut::with_capacity(name.len() + 2);
        lex::write_quoted(&mut d, name.as_bytes());
        Self::build(Some(&d), &self.uri, self.params.of_text(&self.text))
    }

    /// The same address with another URI.
    pub fn with_uri(&self, uri: impl Into<Uri>) -> Self {
        Self::build(self.display_name_raw(), &uri.into(), self.params.of_text(&self.text))
    }

    /// The same address with a parameter set (replacing any earlier one of that name).
    pub fn with_param(&self, name: &str, value: Option<&str>) -> Result<Self, DecodeError> {
        let mut p = BytesMut::new();
        write_params_with(&mut p, self.params.of_text(&self.text), name, value)?;
        Ok(Self::build(self.display_name_raw(), &self.uri, &p))
    }

    /// The same address without any parameter named `name`.
    pub fn without_param(&self, name: &str) -> Self {
        let mut p = BytesMut::new();
        write_params_without(&mut p, self.params.of_text(&self.text), name);
        Self::build(self.display_name_raw(), &self.uri, &p)
    }

    /// The same address with a `tag` (replacing any earlier one); a tag must be a token.
    /// (What [`with_param`](Self::with_param) gives, written in one pass: every UAS answer
    /// and every request this side starts tags an address.)
    pub fn with_tag(&self, tag: &str) -> Result<Self, DecodeError> {
        if !lex::is_token(tag.as_bytes()) {
            return Err(DecodeError::new("tag is not a token", 0));
        }
        let (display, raw) = (self.display_name_raw(), self.params.of_text(&self.text));
        let mut out = BytesMut::with_capacity(Self::head_len(display, &self.uri) + raw.len() + 5 + tag.len());
        let display_span = Self::write_head(&mut out, display, &self.uri);
        let params_start = out.len();
        write_params_without(&mut out, raw, "tag");
        out.put_slice(b";tag=");
        let tag_start = out.len();
        out.put_slice(tag.as_bytes());
        let end = out.len();
        Ok(Self {
            text: out.freeze(),
            display: display_span,
            uri: self.uri.clone(),
            params: Span::of(params_start..end),
            tag: Span::of(tag_start..end),
        })
    }

    /// Writes the address as written.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.text);
    }
}

/// Notes in `tag` the first `tag` parameter scanned: the span of its value when that is
/// not a quoted string (what `Param::token` gives), `Span::NONE` otherwise.
fn note_tag(tag: &mut Option<Span>, name: &[u8], v: Option<ScannedValue<'_>>) {
    if name.len() == 3 && tag.is_none() && name.eq_ignore_ascii_case(b"tag") {
        let token = v.filter(|v| v.bytes.first() != Some(&b'"'));
        *tag = Some(token.map_or(Span::NONE, |v| v.span()));
    }
}

/// The tag of an address `text` a builder wrote, whose parameters are at `params`.
fn tag_span(text: &[u8], params: Span) -> Span {
    let mut c = Cursor { buf: text, pos: params.start as usize };
    let mut tag = None;
    let scanned = scan_params_checked(&mut c, |name, v| {
        note_tag(&mut tag, name, v);
        true
    });
    scanned.ok().and(tag).unwrap_or(Span::NONE)
}

/// Addresses are equal when their display names are the same text, their URIs are equal
/// (§19.1.4) and their parameters are the same.
impl PartialEq for NameAddr {
    fn eq(&self, other: &Self) -> bool {
        self.display_name_raw() == other.display_name_raw() && self.uri == other.uri && self.params() == other.params()
    }
}

impl Eq for NameAddr {}

impl fmt::Debug for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameAddr({})", String::from_utf8_lossy(&self.text))
    }
}

macro_rules! address_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident, $form:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty(pub NameAddr);

        impl TypedHeader for $ty {
            const NAME: HeaderName = HeaderName::$name;

            fn decode(value: &Bytes) -> Result<Self, DecodeError> {
                NameAddr::decode_value(value, $form).map(Self)
            }

            fn encode(&self, out: &mut BytesMut) {
                self.0.encode(out);
            }
        }

        impl std::ops::Deref for $ty {
            type Target = NameAddr;

            fn deref(&self) -> &NameAddr {
                &self.0
            }
        }

        impl std::convert::From<NameAddr> for $ty {
            fn from(a: NameAddr) -> Self {
                Self(a)
            }
        }
    };
}

address_header!(
    /// `From` (§20.20): the logical initiator of the request, with its `tag`.
    From, FROM, AddrForm::Any
);
address_header!(
    /// `To` (§20.39): the logical recipient, with the `tag` of the UAS.
    To, TO, AddrForm::Any
);
address_header!(
    /// `Route` (§20.34): one element of the route set.
    Route, ROUTE, AddrForm::NameAddrOnly
);
address_header!(
    /// `Record-Route` (§20.30): a proxy that asks to stay on the path of the dialog.
    RecordRoute, RECORD_ROUTE, AddrForm::NameAddrOnly
);
address_header!(
    /// `Path` (RFC 3327): a proxy on the path from a registering UA to its registrar.
    Path, PATH, AddrForm::NameAddrOnly
);
address_header!(
    /// `Service-Route` (RFC 3608): the route a registrar gives a registered UA.
    ServiceRoute, SERVICE_ROUTE, AddrForm::NameAddrOnly
);
address_header!(
    /// `Reply-To` (§20.31): where a reply should go, which may differ from From.
    ReplyTo, REPLY_TO, AddrForm::Any
);
address_header!(
    /// `Refer-To` (RFC 3515): the target of a REFER.
    ReferTo, REFER_TO, AddrForm::Any
);
address_header!(
    /// `Referred-By` (RFC 3892): who asked for the REFER.
    ReferredBy, REFERRED_BY, AddrForm::Any
);

/// `P-Asserted-Identity` (RFC 3325): an identity asserted inside a trust domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PAssertedIdentity(pub NameAddr);

/// `P-Preferred-Identity` (RFC 3325): the identity a UA would like asserted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PPreferredIdentity(pub NameAddr);

fn decode_identity(value: &Bytes) -> Result<NameAddr, DecodeError> {
    let addr = NameAddr::decode_value(value, AddrForm::Any)?;
    if !addr.params().is_empty() {
        return Err(DecodeError::new("identity with header parameters", 0));
    }
    Ok(addr)
}

impl TypedHeader for PAssertedIdentity {
    const NAME: HeaderName = HeaderName::P_ASSERTED_IDENTITY;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_identity(value).map(Self)
    }

    fn encode(&self, out: &mut BytesMut) {
        self.0.encode(out);
    }
}

impl TypedHeader for PPreferredIdentity {
    const NAME: HeaderName = HeaderName::P_PREFERRED_IDENTITY;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_identity(value).map(Self)
    }

    fn encode(&self, out: &mut BytesMut) {
        self.0.encode(out);
    }
}

/// `Contact` (§20.10): `*` (in a REGISTER that removes all bindings) or an address.
// Boxing the address would cost an allocation per contact; `*` is rare.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// `*`: every binding.
    Star,
    /// A contact address with its parameters (`q`, `expires`, `+sip.instance`, ...).
    Address(NameAddr),
}

impl Contact {
    /// The address, unless this is `*`.
    pub fn address(&self) -> Option<&NameAddr> {
        match self {
            Self::Star => None,
            Self::Address(a) => Some(a),
        }
    }

    /// The `expires` parameter in seconds; `None` when absent or above 2^32-1.
    pub fn expires(&self) -> Option<u32> {
        self.address()?.params().value("expires").and_then(|v| lex::parse_u32(&v))
    }

    /// The `q` parameter in thousandths (0–1000).
    pub fn q(&self) -> Option<u16> {
        self.address()?.params().value("q").and_then(|v| parse_qvalue(&v))
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
pub(crate) fn parse_qvalue(v: &[u8]) -> Option<u16> {
    let (int, frac) = match memchr::memchr(b'.', v) {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, &v[v.len()..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut thousandths = 0u16;
    for i in 0..3 {
        thousandths = thousandths * 10 + frac.get(i).map_or(0, |d| u16::from(d - b'0'));
    }
    match int {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// `c-p-q = "q" EQUAL qvalue`, `c-p-expires = "expires" EQUAL delta-seconds`.
fn check_contact_param(name: &[u8], v: Option<ScannedValue<'_>>) -> bool {
    let v = v.map(|v| v.bytes);
    match name.len() {
        1 if name.eq_ignore_ascii_case(b"q") => v.and_then(parse_qvalue).is_some(),
        7 if name.eq_ignore_ascii_case(b"expires") => v.is_some_and(lex::is_digits),
        _ => true,
    }
}

impl TypedHeader for Contact {
    const NAME: HeaderName = HeaderName::CONTACT;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        if value.as_ref() == b"*" {
            return Ok(Self::Star);
        }
        let addr = decode_all(value, |c| NameAddr::scan(c, value, AddrForm::Any, check_contact_param))?;
        Ok(Self::Address(addr))
    }

    fn encode(&self, out: &mut BytesMut) {
        match self {
            Self::Star => out.put_u8(b'*'),
            Self::Address(a) => a.encode(out),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_tag_noted_when_decoding_is_the_first_tag_parameter() {
        for (value, tag) in [
            ("<sip:a@b>;tag=1;tag=2", Some("1")),
            ("<sip:a@b>;TaG=up;x", Some("up")),
            ("<sip:a@b>;tag=\"quoted\";tag=2", None),
            ("<sip:a@b>;tag;tag=2", None),
            ("<sip:a@b;tag=uri-param>;tags=no;xtag=no", None),
            ("sip:a@b;x=1;tag=bare", Some("bare")),
        ] {
            let decoded = NameAddr::decode_value(&Bytes::from(value), AddrForm::Any).unwrap();
            assert_eq!(decoded.tag(), tag, "{value}");
            // What a search of the parameters finds, as for an address that was built.
            assert_eq!(decoded.params().get("tag").and_then(|p| p.token()), tag, "{value}");
            assert_eq!(decoded.detached().tag(), tag, "{value}");
        }
        let built = NameAddr::new(Uri::parse("sip:a@b").unwrap()).with_tag("t9").unwrap();
        assert_eq!(built.tag(), Some("t9"));
        assert_eq!(built.with_tag("t10").unwrap().tag(), Some("t10"));
        assert_eq!(built.without_param("tag").tag(), None);
    }

    #[test]
    fn tag_of_finds_the_tag_the_decoder_finds() {
        for value in [
            "Alice <sip:alice@atlanta.example.com>;tag=1928301774",
            "\"A <b>; c\" <sip:alice@atlanta.example.com;transport=tcp>;foo=bar;TAG=x-y.z",
            "sip:alice@atlanta.example.com;tag=88sja8x",
            "<sip:bob@biloxi.example.com>",
            "Bob <sip:bob@biloxi.example.com;tag=not-this>;other",
            "  <tel:+1-212-555-1212;phone-context=x> ; tag = spaced ",
            "sip:carol@chicago.example.com",
            "\"quoted \\\" escape\" <sip:d@e>;tag=q",
        ] {
            let bytes = Bytes::from(value);
            let decoded = NameAddr::decode_value(&bytes, AddrForm::Any).unwrap();
            let fast = NameAddr::tag_of(&bytes).unwrap();
            assert_eq!(fast.as_deref(), decoded.tag().map(str::as_bytes), "{value}");
        }
        for bad in ["<sip:a@b", "\"unterminated <sip:a@b>;tag=1", "<sip:a@b>;tag=1 trailing"] {
            assert!(NameAddr::tag_of(&Bytes::from(bad)).is_err(), "{bad}");
        }
    }
    use super::*;

    fn addr(s: &'static str) -> Result<NameAddr, DecodeError> {
        From::decode(&Bytes::from_static(s.as_bytes())).map(|f| f.0)
    }

    #[test]
    fn forms() {
        let a = addr(r#""J Rosenberg \\\""       <sip:jdrosen@example.com>  ;  tag = 98asjd8"#).unwrap();
        assert_eq!(a.display_name().unwrap(), r#"J Rosenberg \""#);
        assert_eq!(a.tag(), Some("98asjd8"));
        let a = addr("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert!(a.display_name().is_none());
        assert_eq!(a.tag(), Some("1918181833n"));
        let a = addr("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(a.display_name().unwrap(), "caller");
        let a = addr("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>").unwrap();
        assert_eq!(a.display_name_raw().unwrap(), b"token1~` token2'+_ token3*%!.-");
        let a = addr("<http://www.example.com>;tag=3234233").unwrap();
        assert_eq!(a.uri().scheme(), "http");
        let a = addr("isbn:2983792873").unwrap();
        assert_eq!(a.uri().scheme(), "isbn");
        // unbracketed: the parameter belongs to the header, not the URI
        let a = addr("sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert!(a.params().contains("unknownparam"));
        assert!(a.uri().as_sip().unwrap().params().is_empty());
        let a = addr("<sip:+19725552222@gw1.example.net;unknownparam>").unwrap();
        assert!(!a.params().contains("unknownparam"));
        assert!(a.uri().as_sip().unwrap().params().contains("unknownparam"));
    }

    #[test]
    fn malformed() {
        for bad in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            r#""Watson, Thomas" < sip:t.watson@example.org >"#,
            "Watson, Thomas <sip:t.watson@example.org>",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            r#""Joe" <sip:joe@example.org>;;;;"#,
            "<sip:joe@example.org",
            "Bob sip:bob@example.org",
            "",
        ] {
            assert!(addr(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Route::decode(&Bytes::from_static(b"sip:p.example.com;lr")).is_err());
        assert!(Route::decode(&Bytes::from_static(b"<sip:p.example.com;lr>")).is_ok());
    }

    #[test]
    fn contact() {
        let star = Contact::decode(&Bytes::from_static(b"*")).unwrap();
        assert_eq!(star, Contact::Star);
        let c = Contact::decode(&Bytes::from_static(b"\"Quoted string \\\"\\\"\" <sip:jdrosen@example.com> ; newparam =\r\n      newvalue ;\r\n  secondparam ; q = 0.33")).unwrap();
        assert_eq!(c.q(), Some(330));
        let c = Contact::decode(&Bytes::from_static(b"<sip:u@h>;expires=280297596632815")).unwrap();
        assert_eq!(c.expires(), None);
        assert!(Contact::decode(&Bytes::from_static(b"<sip:u@h>;q=1.5")).is_err());
        assert!(Contact::decode(&Bytes::from_static(b"<sip:u@h>;expires=soon")).is_err());
        assert_eq!(parse_qvalue(b"1.000"), Some(1000));
        assert_eq!(parse_qvalue(b"0"), Some(0));
        assert_eq!(parse_qvalue(b"0.5"), Some(500));
        assert_eq!(parse_qvalue(b"0.1234"), None);
        assert_eq!(parse_qvalue(b"1.001"), None);
    }

    #[test]
    fn encode() {
        let a = NameAddr::new("sip:alice@example.com".parse::<Uri>().unwrap())
            .with_display_name("Alice \"A\"")
            .with_tag("1928301774")
            .unwrap();
        let f = From(a);
        assert_eq!(f.to_bytes().as_ref(), br#""Alice \"A\"" <sip:alice@example.com>;tag=1928301774"#);
        assert_eq!(From::decode(&f.to_bytes()).unwrap(), f);
        assert!(NameAddr::new("sip:a@b".parse::<Uri>().unwrap()).with_tag("a b").is_err());
    }
}
