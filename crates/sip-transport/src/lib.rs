//! SIP transports (RFC 3261 §18).
//!
//! - [`framing`]: the stream codec that cuts messages out of TCP and TLS byte streams by
//!   Content-Length, answers keep-alives (RFC 5626 §4.4.1) and closes on what cannot be
//!   framed, as a `tokio_util::codec` `Decoder`/`Encoder`.
//!
//! ```
//! use bytes::BytesMut;
//! use sip_transport::framing::{Frame, StreamCodec};
//! use tokio_util::codec::Decoder;
//!
//! let mut codec = StreamCodec::default();
//! let mut received = BytesMut::from(
//!     &b"\r\n\r\nOPTIONS sip:bob@example.com SIP/2.0\r\n\
//! Via: SIP/2.0/TCP client.example.com;branch=z9hG4bK1\r\n\
//! From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
//! Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\nOPT"[..],
//! );
//! assert!(matches!(codec.decode(&mut received)?, Some(Frame::Ping)));
//! assert!(matches!(codec.decode(&mut received)?, Some(Frame::Message(_))));
//! assert!(codec.decode(&mut received)?.is_none()); // "OPT": the next message, not yet whole
//! # Ok::<(), sip_transport::framing::FramingError>(())
//! ```

#![forbid(unsafe_code)]

pub mod framing;
