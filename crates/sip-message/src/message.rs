//! Requests and responses: parsing one whole message, the checks every element needs,
//! serialization, and building new messages.

use std::fmt;
use std::ops::Range;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, ParseError, ParseErrorKind};
use crate::header::{self, CSeq, CallId, ContentLength, MaxForwards, NameAddr, TypedHeader, Via};
use crate::headers::{Header, Headers};
use crate::lex;
use crate::limits::ParseLimits;
use crate::method::Method;
use crate::multipart::{self, Part};
use crate::name::{HeaderName, Known, Multiplicity};
use crate::status::StatusCode;
use crate::uri::{Uri, UriContext, scan_uri};

/// The only SIP version this crate speaks.
pub const SIP_VERSION: &str = "SIP/2.0";

/// A SIP request (§7.1).
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
    /// The header fields.
    pub headers: Headers,
    /// The body (empty when there is none). Replace it with `set_body`, which keeps
    /// Content-Length in step.
    pub body: Bytes,
}

/// A SIP response (§7.2).
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase; private so that it is always a valid Reason-Phrase.
    reason: Bytes,
    /// The header fields.
    pub headers: Headers,
    /// The body (empty when there is none). Replace it with `set_body`, which keeps
    /// Content-Length in step.
    pub body: Bytes,
}

/// A SIP message.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// Parses one whole message (a datagram, or one frame cut by a stream framer) with the
    /// default [`ParseLimits`]. Header values, URIs and the body are slices of `buf`.
    ///
    /// This runs the checks every element needs: the start line (with the Request-URI
    /// decoded), the mandatory Via, From, To, Call-ID and CSeq present, CSeq decoded (below
    /// 2^31, its method the request's), Max-Forwards (0–255) and Content-Length decoded, no
    /// single-valued header repeated with a different value, and Content-Length against the
    /// datagram (§18.3: a shorter body is an error, a longer one is cut; without
    /// Content-Length the body is the rest of the datagram). Every other header is located
    /// and kept raw: typed access decodes it, [`Message::validate`] decodes them all.
    ///
    /// ```
    /// use sip_message::{Message, Method};
    ///
    /// let msg = Message::parse(&b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
    /// Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n\
    /// Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\n\
    /// From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
    /// Call-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 63104 OPTIONS\r\n\
    /// Content-Length: 0\r\n\r\n"[..]).unwrap();
    /// let Message::Request(req) = &msg else { panic!() };
    /// assert_eq!(req.method, Method::OPTIONS);
    /// assert_eq!(req.headers.cseq().unwrap().unwrap().seq, 63104);
    /// msg.validate().unwrap();
    /// ```
    pub fn parse(buf: impl Into<Bytes>) -> Result<Self, ParseError> {
        Self::parse_with(buf, &ParseLimits::default())
    }

    /// [`Message::parse`] with explicit limits.
    pub fn parse_with(buf: impl Into<Bytes>, limits: &ParseLimits) -> Result<Self, ParseError> {
        let buf = buf.into();
        parse_message(&buf, limits)
    }

    /// Decodes every header field this crate knows and rejects the message if one is
    /// malformed; also checks what [`Message::parse`] checks (for built messages) and that
    /// a body comes with a Content-Type (§20.15). A UAS runs this before acting on a request.
    pub fn validate(&self) -> Result<(), ParseError> {
        let response = self.is_response();
        let err = |kind| ParseError::new(kind, None).in_response(response);
        check_semantics(self.method_for_check(), self.headers(), true, None).map_err(|e| e.in_response(response))?;
        self.headers().validate().map_err(|(name, error)| err(ParseErrorKind::InvalidHeader { name, error }))?;
        if !self.body().is_empty() && !self.headers().contains(&HeaderName::CONTENT_TYPE) {
            return Err(err(ParseErrorKind::MissingContentType));
        }
        Ok(())
    }

    fn method_for_check(&self) -> Option<&Method> {
        match self {
            Self::Request(r) => Some(&r.method),
            Self::Response(_) => None,
        }
    }

    /// Whether this is a response.
    pub fn is_response(&self) -> bool {
        matches!(self, Self::Response(_))
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        match self {
            Self::Request(r) => &r.headers,
            Self::Response(r) => &r.headers,
        }
    }

    /// The header fields, for editing.
    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Self::Request(r) => &mut r.headers,
            Self::Response(r) => &mut r.headers,
        }
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        match self {
            Self::Request(r) => &r.body,
            Self::Response(r) => &r.body,
        }
    }

    /// The parts of a `multipart/*` body, each with its own headers; `None` when the body
    /// is not multipart.
    pub fn multipart(&self) -> Option<Result<Vec<Part>, DecodeError>> {
        let ct = self.headers().content_type()?.ok()?;
        if !ct.0.is_multipart() {
            return None;
        }
        Some(multipart::parse(&ct.0, self.body(), &ParseLimits::default()))
    }

    /// Writes the message.
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Self::Request(r) => r.encode(out),
            Self::Response(r) => r.encode(out),
        }
    }

    /// The message as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }

    /// How many bytes [`encode`](Self::encode) writes: what [`to_bytes`](Self::to_bytes)
    /// allocates, so a message kept for retransmission holds no spare room.
    pub fn encoded_len(&self) -> usize {
        match self {
            Self::Request(r) => r.encoded_len(),
            Self::Response(r) => r.encoded_len(),
        }
    }
}

impl From<Request> for Message {
    fn from(r: Request) -> Self {
        Self::Request(r)
    }
}

impl From<Response> for Message {
    fn from(r: Response) -> Self {
        Self::Response(r)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(r) => r.fmt(f),
            Self::Response(r) => r.fmt(f),
        }
    }
}

impl Request {
    /// Starts building a request for `method` to `uri`.
    pub fn builder(method: Method, uri: impl Into<Uri>) -> RequestBuilder {
        RequestBuilder {
            request: Self { method, uri: uri.into(), headers: Headers::with_capacity(10), body: Bytes::new() },
            error: None,
        }
    }

    /// Writes the request.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(self.method.as_bytes());
        out.put_u8(b' ');
        self.uri.encode(out);
        out.put_slice(b" SIP/2.0\r\n");
        self.headers.encode(out);
        out.put_slice(b"\r\n");
        out.put_slice(&self.body);
    }

    /// The request as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }

    /// How many bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        let start_line = self.method.as_bytes().len() + 1 + self.uri.as_bytes().len() + b" SIP/2.0\r\n".len();
        start_line + self.headers.encoded_len() + 2 + self.body.len()
    }

    /// Replaces the body and its Content-Type, and sets Content-Length.
    pub fn set_body(&mut self, content_type: Option<header::MediaType>, body: Bytes) {
        set_body(&mut self.headers, &mut self.body, content_type, body);
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

impl Response {
    /// A response with `status`, its canonical reason phrase and no headers.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            reason: Bytes::from_static(status.default_reason().as_bytes()),
            // The copied fields and a few more fit, under the kilobyte where the allocator
            // starts to work harder.
            headers: Headers::with_capacity(12),
            body: Bytes::new(),
        }
    }

    /// The response a UAS builds for `request` (§8.2.6): the status with its canonical
    /// reason phrase; Via (every value, in order), From, To, Call-ID and CSeq copied; the
    /// Timestamp echoed (§8.2.6.1); Content-Length 0. Add the To tag with
    /// [`Response::with_to_tag`].
    pub fn from_request(request: &Request, status: StatusCode) -> Self {
        let mut r = Self::new(status);
        for f in request.headers.iter() {
            let copy = matches!(
                f.name().kind(),
                Some(Known::Via | Known::From | Known::To | Known::CallId | Known::CSeq | Known::Timestamp)
            );
            if copy {
                r.headers.push(f.clone());
            }
        }
        r.headers.push(Header::content_length(0));
        r
    }

    /// Adds `tag` to the To header unless it already has one (a UAS's tag, §8.2.6.2).
    pub fn with_to_tag(mut self, tag: &str) -> Result<Self, DecodeError> {
        self.set_to_tag(tag)?;
        Ok(self)
    }

    /// [`with_to_tag`](Self::with_to_tag) in place: on an error the response is unchanged.
    pub fn set_to_tag(&mut self, tag: &str) -> Result<(), DecodeError> {
        let Some(field) = self.headers.get(&HeaderName::TO) else {
            return Err(DecodeError::new("response without To", 0));
        };
        // Only the tag is looked for: the address is written back as it was, with the
        // tag after its other parameters.
        if NameAddr::tag_of(field.value())?.is_none() {
            if !lex::is_token(tag.as_bytes()) {
                return Err(DecodeError::new("a tag must be a token", 0));
            }
            let mut value = BytesMut::with_capacity(field.value().len() + 5 + tag.len());
            value.put_slice(field.value());
            value.put_slice(b";tag=");
            value.put_slice(tag.as_bytes());
            let to = Header::new(HeaderName::TO, value.freeze())?;
            self.headers.set(to);
        }
        Ok(())
    }

    /// The reason phrase as received (UTF-8 by the grammar).
    pub fn reason(&self) -> &str {
        // Checked to be UTF-8 when parsed or set.
        std::str::from_utf8(&self.reason).unwrap_or("")
    }

    /// Sets the reason phrase; it may not contain control characters other than HTAB.
    pub fn with_reason(mut self, reason: &str) -> Result<Self, DecodeError> {
        if let Some(at) = reason.bytes().position(|b| b.is_ascii_control() && b != b'\t') {
            return Err(DecodeError::new("control character in reason phrase", at));
        }
        self.reason = Bytes::copy_from_slice(reason.as_bytes());
        Ok(self)
    }

    /// Writes the response.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(b"SIP/2.0 ");
        lex::put_decimal(out, u32::from(self.status.as_u16()));
        out.put_u8(b' ');
        out.put_slice(&self.reason);
        out.put_slice(b"\r\n");
        self.headers.encode(out);
        out.put_slice(b"\r\n");
        out.put_slice(&self.body);
    }

    /// The response as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }

    /// How many bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        let status = lex::decimal_len(u32::from(self.status.as_u16()));
        let status_line = b"SIP/2.0 ".len() + status + 1 + self.reason.len() + 2;
        status_line + self.headers.encoded_len() + 2 + self.body.len()
    }

    /// Replaces the body and its Content-Type, and sets Content-Length.
    pub fn set_body(&mut self, content_type: Option<header::MediaType>, body: Bytes) {
        set_body(&mut self.headers, &mut self.body, content_type, body);
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("reason", &String::from_utf8_lossy(&self.reason))
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

/// Room for a serialized message: its fields, body and a start line.
fn set_body(headers: &mut Headers, slot: &mut Bytes, content_type: Option<header::MediaType>, body: Bytes) {
    match content_type {
        Some(ct) => headers.set(Header::typed_trusted(&header::ContentType(ct))),
        None => {
            headers.remove(&HeaderName::CONTENT_TYPE);
        }
    }
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    headers.set(Header::content_length(len));
    *slot = body;
}

/// Builds a [`Request`]; see [`Request::builder`].
#[derive(Debug)]
pub struct RequestBuilder {
    request: Request,
    /// The first invalid header given, reported by `build`.
    error: Option<(HeaderName, DecodeError)>,
}

impl RequestBuilder {
    /// Appends a typed header field.
    pub fn header<H: TypedHeader>(mut self, h: H) -> Self {
        if let Err(e) = self.request.headers.push_typed(&h) {
            self.error = self.error.or(Some((H::NAME, e)));
        }
        self
    }

    /// Appends a header field given as text; an invalid value makes [`RequestBuilder::build`] fail.
    pub fn raw_header(mut self, name: HeaderName, value: impl Into<Bytes>) -> Self {
        match Header::new(name.clone(), value) {
            Ok(h) => self.request.headers.push(h),
            Err(e) => self.error = self.error.or(Some((name, e))),
        }
        self
    }

    /// Appends a Via.
    pub fn via(self, via: Via) -> Self {
        self.header(via)
    }

    /// Sets From.
    pub fn from(self, from: NameAddr) -> Self {
        self.header(header::From(from))
    }

    /// Sets To.
    pub fn to(self, to: NameAddr) -> Self {
        self.header(header::To(to))
    }

    /// Sets Call-ID.
    pub fn call_id(self, call_id: CallId) -> Self {
        self.header(call_id)
    }

    /// Sets CSeq with the request's method.
    pub fn cseq(mut self, seq: u32) -> Self {
        match CSeq::new(seq, self.request.method.clone()) {
            Ok(c) => self.header(c),
            Err(e) => {
                self.error = self.error.or(Some((HeaderName::CSEQ, e)));
                self
            }
        }
    }

    /// Sets Max-Forwards.
    pub fn max_forwards(self, hops: u8) -> Self {
        self.header(MaxForwards(hops))
    }

    /// Appends a Contact.
    pub fn contact(self, contact: NameAddr) -> Self {
        self.header(header::Contact::Address(contact))
    }

    /// Appends a Route.
    pub fn route(self, route: NameAddr) -> Self {
        self.header(header::Route(route))
    }

    /// Sets the body and its type.
    pub fn body(mut self, content_type: header::MediaType, body: impl Into<Bytes>) -> Self {
        self.request.set_body(Some(content_type), body.into());
        self
    }

    /// The request, with Content-Length set, after the checks [`Message::parse`] makes; an
    /// invalid header given to the builder is reported here.
    pub fn build(mut self) -> Result<Request, ParseError> {
        if let Some((name, error)) = self.error {
            return Err(ParseError::new(ParseErrorKind::InvalidHeader { name, error }, None));
        }
        if !self.request.headers.contains(&HeaderName::CONTENT_LENGTH) {
            let len = u32::try_from(self.request.body.len()).unwrap_or(u32::MAX);
            self.request.headers.push(Header::content_length(len));
        }
        check_semantics(Some(&self.request.method), &self.request.headers, true, None)?;
        Ok(self.request)
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

fn err(kind: ParseErrorKind, offset: usize) -> ParseError {
    ParseError::new(kind, Some(offset))
}

/// Finds the CRLF ending the line that starts at `from`: returns the index of its CR.
fn line_end(b: &[u8], from: usize) -> Result<usize, ParseError> {
    match memchr::memchr2(b'\r', b'\n', &b[from..]).map(|i| from + i) {
        None => Err(err(ParseErrorKind::Unterminated, b.len())),
        Some(at) => {
            if b[at] == b'\r' && b.get(at + 1) == Some(&b'\n') {
                Ok(at)
            } else if b[at] == b'\r' && at + 1 == b.len() {
                Err(err(ParseErrorKind::Unterminated, at))
            } else {
                Err(err(ParseErrorKind::BareLineEnd, at))
            }
        }
    }
}

fn parse_version(v: &[u8]) -> Result<bool, ()> {
    // SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" is case-insensitive in ABNF)
    if v.len() < 7 || !v[..4].eq_ignore_ascii_case(b"SIP/") {
        return Err(());
    }
    let rest = &v[4..];
    let dot = memchr::memchr(b'.', rest).ok_or(())?;
    if !lex::is_digits(&rest[..dot]) || !lex::is_digits(&rest[dot + 1..]) {
        return Err(());
    }
    Ok(rest == b"2.0")
}

enum StartLine {
    Request(Method, Uri),
    Response(StatusCode, Bytes),
}

fn parse_request_line(buf: &Bytes, start: usize, end: usize, limits: &ParseLimits) -> Result<StartLine, ParseError> {
    let line = &buf[start..end];
    let bad = |reason, at| Err(err(ParseErrorKind::StartLine(reason), at));
    let Some(sp1) = memchr::memchr(b' ', line) else {
        return bad("missing SP after the method", end);
    };
    if !lex::is_token(&line[..sp1]) {
        return bad("method is not a token", start);
    }
    let uri_start = sp1 + 1;
    let Some(len) = memchr::memchr(b' ', &line[uri_start..]) else {
        return bad("missing SIP-Version", end);
    };
    if len == 0 {
        return bad("more than one SP before the Request-URI", start + uri_start);
    }
    let uri_end = uri_start + len;
    let version = &line[uri_end + 1..];
    match parse_version(version) {
        Ok(true) => {}
        Ok(false) => {
            return Err(err(ParseErrorKind::VersionNotSupported, start + uri_end + 1));
        }
        Err(()) => return bad("malformed SIP-Version", start + uri_end + 1),
    }
    if len > limits.max_uri_bytes {
        return Err(err(ParseErrorKind::UriTooLong { limit: limits.max_uri_bytes }, start + uri_start));
    }
    let at = start + uri_start;
    let (uri, _) = scan_uri(buf, at, start + uri_end, UriContext::Whole)
        .map_err(|e| err(ParseErrorKind::RequestUri(e.clone()), e.offset()))?;
    if uri.as_sip().is_some_and(|u| u.headers().is_some()) {
        return Err(err(
            ParseErrorKind::RequestUri(DecodeError::new("headers are not allowed in a Request-URI", 0)),
            at,
        ));
    }
    let method = Method::from_slice(buf, start..start + sp1);
    Ok(StartLine::Request(method, uri))
}

fn parse_status_line(buf: &Bytes, start: usize, end: usize) -> Result<StartLine, ParseError> {
    let line = &buf[start..end];
    let bad = |reason, at| Err(err(ParseErrorKind::StartLine(reason), at));
    let Some(sp1) = memchr::memchr(b' ', line) else {
        return bad("missing SP after SIP-Version", end);
    };
    match parse_version(&line[..sp1]) {
        Ok(true) => {}
        Ok(false) => return Err(err(ParseErrorKind::VersionNotSupported, start)),
        Err(()) => return bad("malformed SIP-Version", start),
    }
    let code = &line[sp1 + 1..];
    if code.len() < 4 || code[3] != b' ' || !lex::is_digits(&code[..3]) {
        return bad("Status-Code must be three digits followed by SP", start + sp1 + 1);
    }
    let n = lex::parse_u32(&code[..3]).and_then(|n| u16::try_from(n).ok()).unwrap_or(0);
    let Some(status) = StatusCode::new(n) else {
        return bad("Status-Code out of range 100-699", start + sp1 + 1);
    };
    let reason_at = start + sp1 + 5;
    let reason = &buf[reason_at..end];
    if std::str::from_utf8(reason).is_err()
        || reason.iter().any(|&b| !(lex::is(b, lex::TEXT) || b == b' ' || b == b'\t'))
    {
        return bad("invalid Reason-Phrase", reason_at);
    }
    Ok(StartLine::Response(status, buf.slice(reason_at..end)))
}

fn parse_message(buf: &Bytes, limits: &ParseLimits) -> Result<Message, ParseError> {
    if buf.len() > limits.max_message_bytes {
        return Err(err(
            ParseErrorKind::MessageTooLarge { size: buf.len(), limit: limits.max_message_bytes },
            limits.max_message_bytes,
        ));
    }
    let b = &buf[..];
    // §7.5: CRLFs before the start line are ignored.
    let mut pos = 0;
    while b[pos..].starts_with(b"\r\n") {
        pos += 2;
    }
    if pos >= b.len() {
        return Err(err(ParseErrorKind::Empty, pos));
    }
    let response = b.len() - pos >= 4 && b[pos..pos + 4].eq_ignore_ascii_case(b"SIP/");
    parse_after_detect(buf, pos, limits, response).map_err(|e| e.in_response(response))
}

fn parse_after_detect(
    buf: &Bytes,
    mut pos: usize,
    limits: &ParseLimits,
    response: bool,
) -> Result<Message, ParseError> {
    let b = &buf[..];
    let end = line_end(b, pos)?;
    if end - pos > limits.max_line_bytes {
        return Err(err(ParseErrorKind::LineTooLong { limit: limits.max_line_bytes }, pos));
    }
    let start_line =
        if response { parse_status_line(buf, pos, end)? } else { parse_request_line(buf, pos, end, limits)? };
    pos = end + 2;

    let section = parse_header_section(buf, pos, limits)?;
    let (headers, body_start) = (section.headers, section.body_start);
    let method = match &start_line {
        StartLine::Request(m, _) => Some(m),
        StartLine::Response(..) => None,
    };
    let datagram = Some((buf, body_start));
    let body = check_semantics(method, &headers, section.single_valued_repeated, datagram)?;
    if body.len() > limits.max_body_bytes {
        return Err(err(ParseErrorKind::BodyTooLarge { size: body.len(), limit: limits.max_body_bytes }, body_start));
    }
    Ok(match start_line {
        StartLine::Request(method, uri) => Message::Request(Request { method, uri, headers, body }),
        StartLine::Response(status, reason) => Message::Response(Response { status, reason, headers, body }),
    })
}

/// Parses header fields from `pos` up to and including the empty line; returns them and
/// where the body starts.
pub(crate) fn parse_header_section(buf: &Bytes, pos: usize, limits: &ParseLimits) -> Result<HeaderSection, ParseError> {
    // Room for 14 fields: under the kilobyte where the allocator starts to work harder
    // (a field is 72 bytes), and enough for most messages.
    let mut headers = Headers::with_capacity(14);
    let mut single_valued_seen: u64 = 0;
    let mut repeats = false;
    let body_start = scan_fields(buf, pos, limits, |name, value| {
        let name = HeaderName::from_received(buf, name);
        if let Some(k) = name.kind().filter(|k| k.multiplicity() == Multiplicity::Single) {
            let bit = k.bit();
            repeats |= single_valued_seen & bit != 0;
            single_valued_seen |= bit;
        }
        headers.push_parsed(Header::from_parts(name, buf.slice(value)));
    })?;
    Ok(HeaderSection { headers, body_start, single_valued_repeated: repeats })
}

/// A parsed header section.
pub(crate) struct HeaderSection {
    pub(crate) headers: Headers,
    /// Where the body starts.
    pub(crate) body_start: usize,
    /// Whether a single-valued header occurs more than once (so [`check_semantics`] looks
    /// for a differing value).
    single_valued_repeated: bool,
}

/// Walks the header fields from `pos` up to and including the empty line, checking each
/// line's syntax and the limits, and hands `field` each name (a token) and value (folds
/// included, surrounding white space removed). Returns where the body starts.
#[inline]
fn scan_fields(
    b: &[u8],
    mut pos: usize,
    limits: &ParseLimits,
    mut field: impl FnMut(Range<usize>, Range<usize>),
) -> Result<usize, ParseError> {
    let mut count = 0;
    loop {
        if pos >= b.len() {
            return Err(err(ParseErrorKind::Unterminated, pos));
        }
        if b[pos] == b'\r' && b.get(pos + 1) == Some(&b'\n') {
            return Ok(pos + 2);
        }
        if count >= limits.max_headers {
            return Err(err(ParseErrorKind::TooManyHeaders { limit: limits.max_headers }, pos));
        }
        let line_start = pos;
        let mut p = lex::skip_class(b, pos, lex::TOKEN);
        if p == line_start {
            return Err(err(
                ParseErrorKind::HeaderLine(if matches!(b[p], b' ' | b'\t') {
                    "line starts with white space"
                } else {
                    "header name is not a token"
                }),
                p,
            ));
        }
        let name_end = p;
        while p < b.len() && matches!(b[p], b' ' | b'\t') {
            p += 1;
        }
        if b.get(p) != Some(&b':') {
            return Err(err(ParseErrorKind::HeaderLine("missing ':' after the header name"), p));
        }
        let value_start = p + 1;
        // The field ends at a CRLF not followed by white space.
        let mut end = line_end(b, value_start)?;
        while matches!(b.get(end + 2), Some(b' ' | b'\t')) {
            end = line_end(b, end + 2)?;
        }
        if end - line_start > limits.max_line_bytes {
            return Err(err(ParseErrorKind::LineTooLong { limit: limits.max_line_bytes }, line_start));
        }
        field(line_start..name_end, lex::trim_lws(b, value_start..end));
        count += 1;
        pos = end + 2;
    }
}

/// The Content-Length a message head declares, for cutting messages out of a byte stream
/// (§18.3: on a stream, Content-Length is where a message ends).
///
/// `head` is the start line and the header fields up to and including the empty line
/// (CRLFs before the start line are skipped, §7.5). The fields are checked as
/// [`Message::parse`] checks them, the name in any case or compact form (`l`). `Ok(None)`
/// means the head has no Content-Length, so the stream cannot be framed; a malformed value
/// or two different values are an error with status 400. The start line is not checked
/// here: parsing the whole message does that.
pub fn head_content_length(head: &[u8], limits: &ParseLimits) -> Result<Option<u32>, ParseError> {
    let mut pos = 0;
    while head[pos..].starts_with(b"\r\n") {
        pos += 2;
    }
    let start_line_end = line_end(head, pos)?;
    if start_line_end - pos > limits.max_line_bytes {
        return Err(err(ParseErrorKind::LineTooLong { limit: limits.max_line_bytes }, pos));
    }
    let mut found: Option<Range<usize>> = None;
    let mut conflict = None;
    scan_fields(head, start_line_end + 2, limits, |name, value| {
        if crate::name::classify(&head[name]) != Some(Known::ContentLength) {
            return;
        }
        match &found {
            None => found = Some(value),
            Some(first) if head[first.clone()] != head[value.clone()] => {
                conflict.get_or_insert(value.start);
            }
            Some(_) => {}
        }
    })?;
    if let Some(at) = conflict {
        return Err(err(ParseErrorKind::ConflictingHeader(HeaderName::CONTENT_LENGTH), at));
    }
    let Some(value) = found else {
        return Ok(None);
    };
    header::decode_content_length(&head[value.clone()]).map(Some).map_err(|error| {
        let at = value.start + error.offset();
        ParseError::new(ParseErrorKind::InvalidHeader { name: HeaderName::CONTENT_LENGTH, error }, Some(at))
    })
}

fn offset_in(buf: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize)
}

/// The checks every element makes (see [`Message::parse`]). With `datagram`, also frames
/// the body by Content-Length and returns it. Without `may_repeat` (the parse saw no
/// single-valued header twice), the look for a repeated one with another value is skipped.
fn check_semantics(
    method: Option<&Method>,
    headers: &Headers,
    may_repeat: bool,
    datagram: Option<(&Bytes, usize)>,
) -> Result<Bytes, ParseError> {
    let src: &[u8] = datagram.map_or(&[], |(b, _)| &b[..]);
    let at = |h: &Header| datagram.map(|_| offset_in(src, h.value()));
    let invalid = |h: &Header, error: DecodeError| {
        let offset = at(h).map(|o| o + error.offset());
        ParseError::new(ParseErrorKind::InvalidHeader { name: h.name().canonical(), error }, offset)
    };

    // A single-valued header repeated with a different value.
    let mut seen: u64 = 0;
    let fields = if may_repeat { headers.iter() } else { [].iter() };
    for (i, f) in fields.enumerate() {
        let Some(k) = f.name().kind() else { continue };
        if k.multiplicity() != Multiplicity::Single {
            continue;
        }
        let bit = k.bit();
        if seen & bit != 0 {
            let first = headers.iter().take(i).find(|g| g.name().kind() == Some(k));
            if first.is_some_and(|g| g.value() != f.value()) {
                return Err(ParseError::new(ParseErrorKind::ConflictingHeader(f.name().canonical()), at(f)));
            }
        }
        seen |= bit;
    }

    let first = |name: HeaderName| match headers.get(&name) {
        Some(f) => Ok(f),
        None => Err(ParseError::new(ParseErrorKind::MissingHeader(name), None)),
    };
    for name in [Known::Via, Known::From, Known::To, Known::CallId] {
        if !headers.has_hot(name) {
            return Err(ParseError::new(ParseErrorKind::MissingHeader(HeaderName::known(name)), None));
        }
    }
    let cseq_field = first(HeaderName::CSEQ)?;
    // Decoded into the header set's cache, where validation and the layers above find it.
    let cseq = match headers.cseq() {
        Some(decoded) => decoded.map_err(|e| invalid(cseq_field, e))?,
        None => CSeq::decode(cseq_field.value()).map_err(|e| invalid(cseq_field, e))?,
    };
    if let Some(m) = method {
        if !m.matches(cseq.method.as_bytes()) {
            return Err(ParseError::new(ParseErrorKind::CSeqMethodMismatch, at(cseq_field)));
        }
    }
    if let Some(f) = headers.get(&HeaderName::MAX_FORWARDS) {
        MaxForwards::decode(f.value()).map_err(|e| invalid(f, e))?;
    }
    let content_length = match headers.get(&HeaderName::CONTENT_LENGTH) {
        Some(f) => Some(ContentLength::decode(f.value()).map_err(|e| invalid(f, e))?.0),
        None => None,
    };

    let Some((buf, body_start)) = datagram else {
        return Ok(Bytes::new());
    };
    let available = buf.len() - body_start;
    Ok(match content_length {
        Some(cl) => {
            let cl = usize::try_from(cl).unwrap_or(usize::MAX);
            if cl > available {
                return Err(ParseError::new(
                    ParseErrorKind::BodyTruncated { declared: cl as u64, actual: available },
                    Some(buf.len()),
                ));
            }
            buf.slice(body_start..body_start + cl)
        }
        // No Content-Length on a datagram: the body is the rest of it (§18.3, RFC 2543).
        None => buf.slice(body_start..),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{Contact, From, To};

    const INVITE: &[u8] = b"INVITE sip:bob@biloxi.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@biloxi.com>\r\n\
From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n\
CSeq: 314159 INVITE\r\n\
Timestamp: 54\r\n\
Contact: <sip:alice@pc33.atlanta.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

    fn parse(b: &[u8]) -> Result<Message, ParseError> {
        Message::parse(Bytes::copy_from_slice(b))
    }

    fn kind(b: &[u8]) -> ParseErrorKind {
        parse(b).unwrap_err().kind().clone()
    }

    #[test]
    fn parses_a_request() {
        let m = parse(INVITE).unwrap();
        m.validate().unwrap();
        let Message::Request(r) = &m else { panic!() };
        assert_eq!(r.method, Method::INVITE);
        assert_eq!(r.uri.to_string(), "sip:bob@biloxi.com");
        assert_eq!(r.headers.len(), 10);
        assert_eq!(r.body.as_ref(), b"v=0\n");
        assert_eq!(m.to_bytes().as_ref(), INVITE);
    }

    #[test]
    fn response_from_request() {
        let Message::Request(r) = parse(INVITE).unwrap() else { panic!() };
        let resp = Response::from_request(&r, StatusCode::RINGING).with_to_tag("a6c85cf").unwrap();
        assert_eq!(resp.headers.to().unwrap().unwrap().tag(), Some("a6c85cf"));
        assert_eq!(resp.headers.from().unwrap().unwrap().tag(), Some("1928301774"));
        assert!(resp.headers.contains(&HeaderName::TIMESTAMP));
        assert!(!resp.headers.contains(&HeaderName::CONTACT));
        let bytes = resp.to_bytes();
        assert!(
            bytes.starts_with(b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n")
        );
        let back = parse(&bytes).unwrap();
        back.validate().unwrap();
        assert_eq!(back, Message::Response(resp.clone()));
        // a second tag is never added
        let again = resp.with_to_tag("other").unwrap();
        assert_eq!(again.headers.to().unwrap().unwrap().tag(), Some("a6c85cf"));
        // In place: a tag that is no token is refused and the response stays as it was.
        let mut untagged = Response::from_request(&r, StatusCode::OK);
        let before = untagged.clone();
        assert!(untagged.set_to_tag("not a token").is_err());
        assert_eq!(untagged, before);
        untagged.set_to_tag("b7").unwrap();
        assert_eq!(untagged.headers.to().unwrap().unwrap().tag(), Some("b7"));
    }

    /// `to_bytes` allocates exactly what it writes: a response kept for retransmission
    /// holds no spare room.
    #[test]
    fn encoded_len_is_what_encode_writes() {
        let Message::Request(r) = parse(INVITE).unwrap() else { panic!() };
        let mut resp = Response::from_request(&r, StatusCode::RINGING).with_reason("").unwrap();
        // An empty value is written without the space after the colon.
        resp.headers.push(Header::new(HeaderName::from_static("X-Empty"), "").unwrap());
        for m in [Message::Request(r), Message::Response(resp), Message::Response(Response::new(StatusCode::OK))] {
            let mut out = BytesMut::new();
            m.encode(&mut out);
            assert_eq!(m.encoded_len(), out.len());
            assert_eq!(m.to_bytes().len(), out.len());
        }
    }

    #[test]
    fn builder() {
        let uri: Uri = "sip:bob@biloxi.com".parse().unwrap();
        let req = Request::builder(Method::INVITE, uri.clone())
            .via(
                Via::new(&header::Transport::UDP, &"pc33.atlanta.com".parse().unwrap(), None)
                    .with_branch("z9hG4bK776asdhds")
                    .unwrap(),
            )
            .max_forwards(70)
            .to(NameAddr::new(uri))
            .from(NameAddr::new("sip:alice@atlanta.com".parse::<Uri>().unwrap()).with_tag("1928301774").unwrap())
            .call_id(CallId::new("a84b4c76e66710@pc33.atlanta.com").unwrap())
            .cseq(1)
            .contact(NameAddr::new("sip:alice@pc33.atlanta.com".parse::<Uri>().unwrap()))
            .body(header::MediaType::application_sdp(), &b"v=0\r\n"[..])
            .build()
            .unwrap();
        assert_eq!(req.headers.content_length().unwrap().unwrap(), ContentLength(5));
        let m = Message::Request(req);
        let back = parse(&m.to_bytes()).unwrap();
        back.validate().unwrap();
        assert_eq!(back, m);
        let missing = Request::builder(Method::OPTIONS, "sip:x@y".parse::<Uri>().unwrap()).build();
        assert!(matches!(missing.unwrap_err().kind(), ParseErrorKind::MissingHeader(_)));
        let injected = Request::builder(Method::OPTIONS, "sip:x@y".parse::<Uri>().unwrap())
            .raw_header(HeaderName::SUBJECT, "a\r\nVia: evil")
            .build();
        assert!(
            matches!(injected.unwrap_err().kind(), ParseErrorKind::InvalidHeader { name, .. } if *name == HeaderName::SUBJECT)
        );
        let bad = Request::builder(Method::OPTIONS, "sip:x@y".parse::<Uri>().unwrap())
            .header(header::Subject(Bytes::from_static(b"x\ry")))
            .build();
        assert!(bad.is_err());
    }

    #[test]
    fn start_line_errors() {
        let replace = |from: &str, to: &str| String::from_utf8_lossy(INVITE).replacen(from, to, 1);
        let cases = [
            (replace("INVITE sip", "INVITE  sip"), 400),
            (replace("SIP/2.0\r\n", "SIP/2.0 \r\n"), 400),
            (replace("SIP/2.0\r\n", "SIP/3.0\r\n"), 505),
            (replace("SIP/2.0\r\n", "\r\n"), 400),
            (replace("INVITE sip:bob@biloxi.com", "INVITE <sip:bob@biloxi.com>"), 400),
            (replace("INVITE sip:bob@biloxi.com", "INVITE sip:bob@biloxi.com?Route=x"), 400),
            (replace("INVITE sip:", "IN VITE sip:"), 400),
        ];
        for (msg, status) in cases {
            let e = parse(msg.as_bytes()).unwrap_err();
            assert_eq!(e.status().unwrap().as_u16(), status, "{msg:?}: {e}");
        }
    }

    #[test]
    fn status_line() {
        let ok = b"SIP/2.0 100 \r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b>\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
        let Message::Response(r) = parse(ok).unwrap() else { panic!() };
        assert_eq!(r.status, StatusCode::TRYING);
        assert!(r.reason().is_empty());
        for bad in [
            "SIP/2.0 4294967301 x\r\n",
            "SIP/2.0 099 x\r\n",
            "SIP/2.0 700 x\r\n",
            "SIP/2.0 20 x\r\n",
            "SIP/2.0 200\r\n",
        ] {
            let mut m = bad.as_bytes().to_vec();
            m.extend_from_slice(&ok[14..]);
            let e = parse(&m).unwrap_err();
            assert!(e.is_response() && e.status().is_none(), "{bad}");
        }
    }

    #[test]
    fn framing_by_content_length() {
        let s = String::from_utf8_lossy(INVITE);
        let short = s.replace("Content-Length: 4", "Content-Length: 40");
        assert!(matches!(kind(short.as_bytes()), ParseErrorKind::BodyTruncated { declared: 40, actual: 4 }));
        let long = s.replace("Content-Length: 4", "Content-Length: 2");
        let m = parse(long.as_bytes()).unwrap();
        assert_eq!(m.body().as_ref(), b"v=");
        let none = s.replace("Content-Length: 4\r\n", "");
        assert_eq!(parse(none.as_bytes()).unwrap().body().as_ref(), b"v=0\n");
        let neg = s.replace("Content-Length: 4", "Content-Length: -4");
        assert!(matches!(kind(neg.as_bytes()), ParseErrorKind::InvalidHeader { .. }));
        let two = s.replace("Content-Length: 4", "Content-Length: 4\r\nl: 3");
        assert!(matches!(kind(two.as_bytes()), ParseErrorKind::ConflictingHeader(_)));
        let same = s.replace("Content-Length: 4", "Content-Length: 4\r\nl: 4");
        assert!(parse(same.as_bytes()).is_ok());
    }

    #[test]
    fn semantic_errors() {
        let s = String::from_utf8_lossy(INVITE);
        let mismatch = s.replace("CSeq: 314159 INVITE", "CSeq: 314159 OPTIONS");
        assert_eq!(kind(mismatch.as_bytes()), ParseErrorKind::CSeqMethodMismatch);
        let no_from = s.replace("From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n", "");
        assert_eq!(kind(no_from.as_bytes()), ParseErrorKind::MissingHeader(HeaderName::FROM));
        let no_mf = s.replace("Max-Forwards: 70\r\n", "");
        assert!(parse(no_mf.as_bytes()).is_ok());
        let mf = s.replace("Max-Forwards: 70", "Max-Forwards: 256");
        assert!(matches!(kind(mf.as_bytes()), ParseErrorKind::InvalidHeader { .. }));
        let big = s.replace("CSeq: 314159", "CSeq: 2147483648");
        let e = parse(big.as_bytes()).unwrap_err();
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
        assert!(e.offset().is_some());
        let no_ct = s.replace("Content-Type: application/sdp\r\n", "");
        let m = parse(no_ct.as_bytes()).unwrap();
        assert_eq!(m.validate().unwrap_err().kind(), &ParseErrorKind::MissingContentType);
    }

    #[test]
    fn header_line_errors() {
        let s = String::from_utf8_lossy(INVITE);
        for (from, to) in [
            ("Timestamp: 54", "Timestamp 54"),
            ("Timestamp: 54", " Timestamp: 54"),
            ("Timestamp: 54\r\n", "Timestamp: 54\n"),
            ("Timestamp: 54", "Time stamp: 54"),
            ("Timestamp: 54", "Timestamp: 5\r4"),
        ] {
            let m = s.replace(from, to);
            assert_eq!(parse(m.as_bytes()).unwrap_err().status(), Some(StatusCode::BAD_REQUEST), "{to:?}");
        }
        let unterminated = &INVITE[..INVITE.len() - 8];
        assert!(parse(unterminated).is_err());
        assert_eq!(kind(b""), ParseErrorKind::Empty);
        assert_eq!(kind(b"\r\n\r\n"), ParseErrorKind::Empty);
    }

    #[test]
    fn content_length_of_a_head() {
        let limits = ParseLimits::default();
        let cl = |head: &str| head_content_length(head.as_bytes(), &limits);
        let head = |fields: &str| format!("OPTIONS sip:a@b SIP/2.0\r\n{fields}\r\n");
        assert_eq!(cl(&head("Via: x\r\nContent-Length: 12\r\n")), Ok(Some(12)));
        assert_eq!(cl(&head("l: 0\r\n")), Ok(Some(0)));
        assert_eq!(cl(&head("content-length:\r\n  7\r\n")), Ok(Some(7)));
        assert_eq!(cl(&format!("\r\n\r\n{}", head("L: 3\r\n"))), Ok(Some(3)));
        assert_eq!(cl(&head("Content-Length: 5\r\nl: 5\r\n")), Ok(Some(5)));
        assert_eq!(cl(&head("Via: x\r\n")), Ok(None));
        let e = cl(&head("Content-Length: 5\r\nl: 6\r\n")).unwrap_err();
        assert!(matches!(e.kind(), ParseErrorKind::ConflictingHeader(_)), "{e}");
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
        let e = cl(&head("Content-Length: -1\r\n")).unwrap_err();
        assert!(matches!(e.kind(), ParseErrorKind::InvalidHeader { .. }), "{e}");
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
        assert!(cl(&head(" Content-Length: 1\r\n")).is_err());
        let many = "X: y\r\n".repeat(limits.max_headers + 1);
        assert_eq!(cl(&head(&many)).unwrap_err().status(), Some(StatusCode::MESSAGE_TOO_LARGE));
    }

    #[test]
    fn limits() {
        let tight = ParseLimits { max_headers: 5, ..ParseLimits::default() };
        let e = Message::parse_with(Bytes::from_static(INVITE), &tight).unwrap_err();
        assert_eq!(e.status(), Some(StatusCode::MESSAGE_TOO_LARGE));
        let tight = ParseLimits { max_message_bytes: 100, ..ParseLimits::default() };
        assert_eq!(
            Message::parse_with(Bytes::from_static(INVITE), &tight).unwrap_err().status(),
            Some(StatusCode::MESSAGE_TOO_LARGE)
        );
        let tight = ParseLimits { max_body_bytes: 3, ..ParseLimits::default() };
        assert_eq!(
            Message::parse_with(Bytes::from_static(INVITE), &tight).unwrap_err().status(),
            Some(StatusCode::REQUEST_ENTITY_TOO_LARGE)
        );
        let tight = ParseLimits { max_uri_bytes: 10, ..ParseLimits::default() };
        assert_eq!(
            Message::parse_with(Bytes::from_static(INVITE), &tight).unwrap_err().status(),
            Some(StatusCode::REQUEST_URI_TOO_LONG)
        );
        let tight = ParseLimits { max_line_bytes: 40, ..ParseLimits::default() };
        assert_eq!(
            Message::parse_with(Bytes::from_static(INVITE), &tight).unwrap_err().status(),
            Some(StatusCode::MESSAGE_TOO_LARGE)
        );
    }

    #[test]
    fn typed_access_after_parse() {
        let m = parse(INVITE).unwrap();
        let h = m.headers();
        assert_eq!(
            h.from().unwrap().unwrap(),
            From::decode(&Bytes::from_static(b"Alice <sip:alice@atlanta.com>;tag=1928301774")).unwrap()
        );
        assert_eq!(h.to().unwrap().unwrap(), To::decode(&Bytes::from_static(b"Bob <sip:bob@biloxi.com>")).unwrap());
        assert!(matches!(h.contact().next().unwrap().unwrap(), Contact::Address(_)));
    }
}
