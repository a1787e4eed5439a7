//! Cutting SIP messages out of a byte stream (TCP, TLS; RFC 3261 §18.3) as a
//! `tokio_util::codec` [`Decoder`] and [`Encoder`].
//!
//! A message on a stream is its head (start line and header fields up to the empty line)
//! followed by exactly Content-Length bytes of body; Content-Length is required. Between
//! messages a peer may send the keep-alives of RFC 5626 §4.4.1: a double CRLF "ping", to be
//! answered with a single CRLF "pong".

use bytes::{BufMut, Bytes, BytesMut};
use memchr::memmem;
use sip_message::{Message, ParseError, ParseLimits, Request, Response, StatusCode, head_content_length};
use tokio_util::codec::{Decoder, Encoder};

/// Default for [`FramingLimits::max_head_bytes`].
pub const DEFAULT_MAX_HEAD_BYTES: usize = 16 * 1024;
/// Default for [`FramingLimits::max_body_bytes`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// What the stream decoder accepts; a peer that goes beyond them has its connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramingLimits {
    /// Largest head (start line and header fields with the empty line) in bytes: the most
    /// a peer can make the decoder buffer before it must send the empty line.
    pub max_head_bytes: usize,
    /// Largest Content-Length accepted, in bytes.
    pub max_body_bytes: usize,
    /// The limits each framed message is parsed with. Its `max_message_bytes` should be
    /// at least `max_head_bytes + max_body_bytes`, as in the default.
    pub parse: ParseLimits,
}

impl Default for FramingLimits {
    fn default() -> Self {
        Self {
            max_head_bytes: DEFAULT_MAX_HEAD_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            parse: ParseLimits {
                max_message_bytes: DEFAULT_MAX_HEAD_BYTES + DEFAULT_MAX_BODY_BYTES,
                max_body_bytes: DEFAULT_MAX_BODY_BYTES,
                ..ParseLimits::default()
            },
        }
    }
}

/// One item read from a stream.
#[derive(Debug)]
pub enum Frame {
    /// A whole message.
    Message(Message),
    /// A message framed correctly that does not parse. The stream is still in step, so the
    /// connection stays usable; a UAS answers a request with [`ParseError::status`] where
    /// it can.
    Malformed {
        /// The bytes of the message.
        bytes: Bytes,
        /// Why it does not parse.
        error: ParseError,
    },
    /// A keep-alive "ping" (CRLF CRLF, RFC 5626 §4.4.1); answer it with [`PONG`].
    Ping,
    /// A keep-alive "pong" (a single CRLF), the answer to a ping this side sent.
    Pong,
}

/// The keep-alive answer to a [`Frame::Ping`].
pub const PONG: &[u8] = b"\r\n";
/// The keep-alive ping a client sends on an idle connection.
pub const PING: &[u8] = b"\r\n\r\n";

/// Why a stream cannot be read any further; the connection is closed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    /// No empty line within [`FramingLimits::max_head_bytes`].
    #[error("message head longer than {limit} bytes")]
    HeadTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The head has no Content-Length, so where the message ends is unknown (§18.3).
    #[error("message without Content-Length on a stream")]
    MissingContentLength {
        /// The head, to answer a request with 400.
        head: Bytes,
    },
    /// The head cannot be read far enough to find Content-Length, or its value is malformed.
    #[error("unreadable message head: {error}")]
    InvalidHead {
        /// The head, to answer a request.
        head: Bytes,
        /// What is wrong.
        error: ParseError,
    },
    /// Content-Length beyond [`FramingLimits::max_body_bytes`].
    #[error("Content-Length {declared} above the limit of {limit} bytes")]
    BodyTooLarge {
        /// The head, to answer a request with 413.
        head: Bytes,
        /// The Content-Length value.
        declared: u32,
        /// The limit.
        limit: usize,
    },
    /// The stream ended in the middle of a message.
    #[error("stream ended inside a message ({pending} bytes pending)")]
    Truncated {
        /// Bytes of the unfinished message.
        pending: usize,
    },
    /// Reading or writing the stream failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl FramingError {
    /// The response to send before closing, when the head is a request that parses far
    /// enough to answer (Via, From, To, Call-ID, CSeq): 400 for a missing or malformed
    /// Content-Length, 413 for a body over the limit, or the status the parse error names.
    pub fn response(&self) -> Option<Response> {
        let (head, status) = match self {
            Self::MissingContentLength { head } => (head, StatusCode::BAD_REQUEST),
            Self::InvalidHead { head, error } => (head, error.status()?),
            Self::BodyTooLarge { head, .. } => (head, StatusCode::REQUEST_ENTITY_TOO_LARGE),
            Self::HeadTooLarge { .. } | Self::Truncated { .. } | Self::Io(_) => return None,
        };
        // Parsed as a datagram the head is a message without a body; Content-Length, if
        // any, is what is wrong, so it is left out.
        let request = request_of_head(head)?;
        Some(Response::from_request(&request, status))
    }
}

/// The request a head holds, with any Content-Length removed, or `None` for a response or
/// a head that does not parse.
fn request_of_head(head: &Bytes) -> Option<Request> {
    let limits = ParseLimits { max_message_bytes: usize::MAX, max_line_bytes: usize::MAX, ..ParseLimits::default() };
    let mut text = BytesMut::with_capacity(head.len());
    let mut dropping = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        let folded = matches!(line.first(), Some(b' ' | b'\t'));
        if !folded {
            let name_end = line.iter().position(|&b| b == b':' || b == b' ' || b == b'\t').unwrap_or(0);
            let name = &line[..name_end];
            dropping = name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l");
        }
        if !dropping {
            text.put_slice(line);
        }
    }
    match Message::parse_with(text.freeze(), &limits).ok()? {
        Message::Request(r) => Some(r),
        Message::Response(_) => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Looking for the empty line; bytes before `searched` hold no CRLF CRLF.
    Head { searched: usize },
    /// The head is complete; the message is `total` bytes.
    Body { total: usize },
}

/// The stream decoder and encoder: reads [`Frame`]s, writes messages and raw bytes.
#[derive(Debug, Clone)]
pub struct StreamCodec {
    limits: FramingLimits,
    state: State,
}

impl Default for StreamCodec {
    fn default() -> Self {
        Self::new(FramingLimits::default())
    }
}

impl StreamCodec {
    /// A codec with these limits.
    pub fn new(limits: FramingLimits) -> Self {
        Self { limits, state: State::Head { searched: 0 } }
    }

    /// The limits.
    pub fn limits(&self) -> &FramingLimits {
        &self.limits
    }

    /// Whether part of a message has been read and the rest is awaited (a connection
    /// times this out, so a slow sender cannot hold it forever).
    pub fn is_inside_message(&self, buffered: &BytesMut) -> bool {
        match self.state {
            State::Body { .. } => true,
            State::Head { .. } => !buffered.iter().all(|&b| b == b'\r' || b == b'\n'),
        }
    }

    /// A keep-alive at the start of `src`, or `None` when `src` starts a message.
    /// `Some(Err(()))`: a partial CRLF CRLF, which could still become either; wait for more.
    fn keep_alive(src: &mut BytesMut) -> Option<Result<Frame, ()>> {
        if src.starts_with(PING) {
            let _ = src.split_to(PING.len());
            Some(Ok(Frame::Ping))
        } else if !src.is_empty() && PING.starts_with(src) {
            Some(Err(()))
        } else if src.starts_with(PONG) {
            let _ = src.split_to(PONG.len());
            Some(Ok(Frame::Pong))
        } else {
            None
        }
    }
}

impl Decoder for StreamCodec {
    type Item = Frame;
    type Error = FramingError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        loop {
            match self.state {
                State::Head { searched } => {
                    if searched == 0 {
                        match Self::keep_alive(src) {
                            Some(Ok(frame)) => return Ok(Some(frame)),
                            Some(Err(())) => return Ok(None),
                            None => {}
                        }
                    }
                    // Resume the search where the last one stopped, less a partial CRLF CRLF.
                    let from = searched.saturating_sub(3);
                    let window_end = src.len().min(self.limits.max_head_bytes);
                    let Some(at) = memmem::find(&src[from..window_end], PING) else {
                        if src.len() >= self.limits.max_head_bytes {
                            return Err(FramingError::HeadTooLarge { limit: self.limits.max_head_bytes });
                        }
                        self.state = State::Head { searched: src.len() };
                        return Ok(None);
                    };
                    let head_len = from + at + PING.len();
                    let head = &src[..head_len];
                    let declared = match head_content_length(head, &self.limits.parse) {
                        Ok(Some(n)) => n,
                        Ok(None) => {
                            return Err(FramingError::MissingContentLength { head: src.split_to(head_len).freeze() });
                        }
                        Err(error) => {
                            return Err(FramingError::InvalidHead { head: src.split_to(head_len).freeze(), error });
                        }
                    };
                    let body = usize::try_from(declared).unwrap_or(usize::MAX);
                    if body > self.limits.max_body_bytes {
                        return Err(FramingError::BodyTooLarge {
                            head: src.split_to(head_len).freeze(),
                            declared,
                            limit: self.limits.max_body_bytes,
                        });
                    }
                    self.state = State::Body { total: head_len + body };
                }
                State::Body { total } => {
                    if src.len() < total {
                        src.reserve(total - src.len());
                        return Ok(None);
                    }
                    self.state = State::Head { searched: 0 };
                    let bytes = src.split_to(total).freeze();
                    return Ok(Some(match Message::parse_with(bytes.clone(), &self.limits.parse) {
                        Ok(message) => Frame::Message(message),
                        Err(error) => Frame::Malformed { bytes, error },
                    }));
                }
            }
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        // A keep-alive cut short is nothing; anything else was a message.
        if src.iter().all(|&b| b == b'\r' || b == b'\n') {
            src.clear();
            self.state = State::Head { searched: 0 };
            return Ok(None);
        }
        Err(FramingError::Truncated { pending: src.len() })
    }
}

/// Writes a message.
impl Encoder<&Message> for StreamCodec {
    type Error = FramingError;

    fn encode(&mut self, message: &Message, dst: &mut BytesMut) -> Result<(), FramingError> {
        message.encode(dst);
        Ok(())
    }
}

/// Writes bytes as they are: a serialized message, or a keep-alive ([`PING`], [`PONG`]).
impl Encoder<Bytes> for StreamCodec {
    type Error = FramingError;

    fn encode(&mut self, bytes: Bytes, dst: &mut BytesMut) -> Result<(), FramingError> {
        dst.extend_from_slice(&bytes);
        Ok(())
    }
}
