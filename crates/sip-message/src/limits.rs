//! Limits on what the parser accepts, so no input can make it use unbounded memory or time.

/// The limits [`Message::parse_with`](crate::Message::parse_with) enforces. The defaults suit
/// a UDP datagram (at most 64 KiB) and every message of RFC 4475.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Largest whole message in bytes (513 Message Too Large beyond).
    pub max_message_bytes: usize,
    /// Most header fields (lines, folds counted as one) in a message or body part (513 beyond).
    pub max_headers: usize,
    /// Longest start line or header field, folds included, in bytes (513 beyond).
    pub max_line_bytes: usize,
    /// Largest body in bytes (413 Request Entity Too Large beyond).
    pub max_body_bytes: usize,
    /// Longest Request-URI in bytes (414 Request-URI Too Long beyond).
    pub max_uri_bytes: usize,
    /// Most parts a multipart body is split into.
    pub max_multipart_parts: usize,
}

/// Default for [`ParseLimits::max_message_bytes`]: the largest UDP payload.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 65_535;
/// Default for [`ParseLimits::max_headers`].
pub const DEFAULT_MAX_HEADERS: usize = 256;
/// Default for [`ParseLimits::max_line_bytes`].
pub const DEFAULT_MAX_LINE_BYTES: usize = 8 * 1024;
/// Default for [`ParseLimits::max_body_bytes`].
pub const DEFAULT_MAX_BODY_BYTES: usize = 65_535;
/// Default for [`ParseLimits::max_uri_bytes`].
pub const DEFAULT_MAX_URI_BYTES: usize = 4 * 1024;
/// Default for [`ParseLimits::max_multipart_parts`].
pub const DEFAULT_MAX_MULTIPART_PARTS: usize = 32;

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_uri_bytes: DEFAULT_MAX_URI_BYTES,
            max_multipart_parts: DEFAULT_MAX_MULTIPART_PARTS,
        }
    }
}
