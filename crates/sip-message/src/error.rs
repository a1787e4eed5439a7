//! Errors: [`DecodeError`] for one value, [`ParseError`] for a whole message.

use thiserror::Error;

use crate::name::HeaderName;
use crate::status::StatusCode;

/// Why a header value, URI or parameter is malformed, and where in that text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{reason} (at offset {offset})")]
pub struct DecodeError {
    reason: &'static str,
    offset: usize,
}

impl DecodeError {
    /// An error with its reason at `offset` of the decoded text.
    pub(crate) const fn new(reason: &'static str, offset: usize) -> Self {
        Self { reason, offset }
    }

    /// What is wrong, in a few words.
    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// The byte offset of the problem inside the decoded text.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The same error moved `by` bytes further, for text nested in a larger one.
    pub(crate) fn shift(mut self, by: usize) -> Self {
        self.offset += by;
        self
    }
}

/// What made a message unacceptable. See [`ParseError`] for the position.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseErrorKind {
    /// The input is empty (or only white space).
    #[error("empty message")]
    Empty,
    /// The whole message exceeds [`ParseLimits::max_message_bytes`](crate::ParseLimits).
    #[error("message of {size} bytes exceeds the limit of {limit}")]
    MessageTooLarge {
        /// Size of the input.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// More header fields than [`ParseLimits::max_headers`](crate::ParseLimits).
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// A start line or header field longer than [`ParseLimits::max_line_bytes`](crate::ParseLimits).
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// The body exceeds [`ParseLimits::max_body_bytes`](crate::ParseLimits).
    #[error("body of {size} bytes exceeds the limit of {limit}")]
    BodyTooLarge {
        /// Size of the body.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The Request-URI exceeds [`ParseLimits::max_uri_bytes`](crate::ParseLimits).
    #[error("Request-URI longer than {limit} bytes")]
    UriTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// The header section does not end with an empty line.
    #[error("header section not terminated by an empty line")]
    Unterminated,
    /// A line ends with a bare CR or LF instead of CRLF.
    #[error("line not terminated by CRLF")]
    BareLineEnd,
    /// The Request-Line or Status-Line is malformed.
    #[error("malformed start line: {0}")]
    StartLine(&'static str),
    /// The Request-URI is malformed.
    #[error("malformed Request-URI: {0}")]
    RequestUri(DecodeError),
    /// The SIP-Version is well-formed but not SIP/2.0.
    #[error("SIP version not supported")]
    VersionNotSupported,
    /// A header field line is malformed (no colon, bad name, control characters).
    #[error("malformed header field: {0}")]
    HeaderLine(&'static str),
    /// A header field's value does not match its grammar.
    #[error("invalid {name} header: {error}")]
    InvalidHeader {
        /// The header field.
        name: HeaderName,
        /// What is wrong with its value.
        error: DecodeError,
    },
    /// A header field every request and response must carry is missing.
    #[error("missing {0} header")]
    MissingHeader(HeaderName),
    /// A single-valued header field appears again with a different value.
    #[error("{0} header repeated with a different value")]
    ConflictingHeader(HeaderName),
    /// The CSeq method differs from the request method.
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch,
    /// The datagram holds fewer body bytes than Content-Length announces (§18.3).
    #[error("body shorter than Content-Length ({declared} declared, {actual} received)")]
    BodyTruncated {
        /// The Content-Length value.
        declared: u64,
        /// Body bytes present.
        actual: usize,
    },
    /// A non-empty body without a Content-Type (§20.15).
    #[error("body without Content-Type")]
    MissingContentType,
}

/// A message that could not be accepted: what is wrong ([`ParseError::kind`]), where
/// ([`ParseError::offset`]), and the response a UAS answers with ([`ParseError::status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: Option<usize>,
    response: bool,
}

impl std::error::Error for ParseError {}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // With a byte offset in the message, the offset inside a value adds nothing.
        match (&self.kind, self.offset) {
            (ParseErrorKind::InvalidHeader { name, error }, Some(at)) => {
                write!(f, "invalid {name} header: {} at byte {at}", error.reason())
            }
            (ParseErrorKind::RequestUri(error), Some(at)) => {
                write!(f, "malformed Request-URI: {} at byte {at}", error.reason())
            }
            (kind, Some(at)) => write!(f, "{kind} at byte {at}"),
            (kind, None) => write!(f, "{kind}"),
        }
    }
}

impl ParseError {
    /// An error in a request (or in something that is not a response) at `offset`.
    pub(crate) fn new(kind: ParseErrorKind, offset: Option<usize>) -> Self {
        Self { kind, offset, response: false }
    }

    /// Marks the error as found in a response.
    pub(crate) fn in_response(mut self, response: bool) -> Self {
        self.response = response;
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// The byte offset in the parsed input where the problem is, when known.
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// Whether the rejected message was a response (which is discarded, never answered).
    pub fn is_response(&self) -> bool {
        self.response
    }

    /// The final response a UAS or proxy sends for the rejected request: 505 for a SIP
    /// version other than 2.0, 513 for a message over the size limits, 413 for a body over
    /// its limit, 414 for a Request-URI over its limit, 400 for everything else. `None` for
    /// a response, which is dropped silently (§16.7, RFC 4475 §3.1.2.19).
    pub fn status(&self) -> Option<StatusCode> {
        if self.response {
            return None;
        }
        Some(match self.kind {
            ParseErrorKind::VersionNotSupported => StatusCode::VERSION_NOT_SUPPORTED,
            ParseErrorKind::MessageTooLarge { .. }
            | ParseErrorKind::TooManyHeaders { .. }
            | ParseErrorKind::LineTooLong { .. } => StatusCode::MESSAGE_TOO_LARGE,
            ParseErrorKind::BodyTooLarge { .. } => StatusCode::REQUEST_ENTITY_TOO_LARGE,
            ParseErrorKind::UriTooLong { .. } => StatusCode::REQUEST_URI_TOO_LONG,
            _ => StatusCode::BAD_REQUEST,
        })
    }
}
