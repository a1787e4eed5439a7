//! SIP message syntax: the whole grammar of RFC 3261 §25 and of the extensions sipkit
//! implements, parsed zero-copy from one received buffer.
//!
//! - [`Message::parse`] parses one whole message (a datagram, or a frame cut by a stream
//!   framer) and makes the checks every element needs; [`Message::validate`] decodes every
//!   known header and rejects malformed ones. A [`ParseError`] says what is wrong, where, and
//!   which response to send ([`ParseError::status`]).
//! - [`Headers`] keeps every field raw and in order; typed access decodes on demand
//!   ([`Headers::typed`], [`header`]). URIs are [`Uri`]s with the equality of §19.1.4.
//! - Serialization writes into `BytesMut`; `Message::parse(m.to_bytes()) == m`.
//! - [`Request::builder`] and [`Response::from_request`] build new messages.
//!
//! ```
//! use sip_message::{Message, Request, Response, StatusCode};
//!
//! let bytes = &b"REGISTER sip:registrar.biloxi.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7\r\n\
//! Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.com>\r\n\
//! From: Bob <sip:bob@biloxi.com>;tag=456248\r\n\
//! Call-ID: 843817637684230@998sdasdh09\r\nCSeq: 1826 REGISTER\r\n\
//! Contact: <sip:bob@192.0.2.4>\r\nExpires: 7200\r\nContent-Length: 0\r\n\r\n"[..];
//! let Message::Request(req) = Message::parse(bytes)? else { unreachable!() };
//! let contact = req.headers.contact().next().unwrap()?;
//! assert_eq!(contact.address().unwrap().uri().to_string(), "sip:bob@192.0.2.4");
//!
//! let ok = Response::from_request(&req, StatusCode::OK).with_to_tag("2493k59kd")?;
//! assert!(ok.to_bytes().starts_with(b"SIP/2.0 200 OK\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod error;
pub mod header;
mod headers;
mod lex;
mod limits;
mod message;
mod method;
pub mod multipart;
mod name;
mod status;
mod uri;

pub use error::{DecodeError, ParseError, ParseErrorKind};
pub use headers::{Header, Headers, TypedValues, Values};
pub use limits::{
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_HEADERS, DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_MAX_MULTIPART_PARTS, DEFAULT_MAX_URI_BYTES, ParseLimits,
};
pub use message::{Message, Request, RequestBuilder, Response, SIP_VERSION, head_content_length};
pub use method::Method;
pub use multipart::Part;
pub use name::{HeaderName, Multiplicity};
pub use status::StatusCode;
pub use uri::{AbsoluteUri, Host, SipUri, TelUri, Uri, UriParams};
