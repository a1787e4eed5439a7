//! SDP, the Session Description Protocol (RFC 8866), and the offer/answer model of RFC 3264.
//!
//! - [`SessionDescription::parse`] (strict) and [`SessionDescription::parse_lenient`] read a
//!   description in one pass; every text is a slice of the received buffer. Errors name the
//!   line and the reason.
//! - The model is typed down to each field; text fields are [`Text`], [`Token`] or [`Word`],
//!   which cannot hold a line break, so any description a program builds serializes into
//!   valid lines. [`SessionDescription::to_bytes`] writes them in RFC order with CRLF, and
//!   `parse(to_bytes(s)) == s`.
//! - Attributes decode on demand into typed forms ([`attr`]): rtpmap, fmtp, ptime, the
//!   directions, rtcp, rtcp-mux, mid, group, ssrc, extmap, ICE, fingerprint, setup, crypto,
//!   label, msid.
//! - [`Negotiator`] answers offers from local [`Capabilities`] and makes offers and re-offers
//!   (hold, resume, streams added and removed); [`check_answer`] checks an answer against its
//!   offer; [`OfferAnswer`] is the state of one exchange, small enough for a dialog to hold.
//!
//! ```
//! use sip_sdp::SessionDescription;
//! use sip_sdp::attr::{Direction, Rtpmap};
//!
//! let sdp = SessionDescription::parse(&b"v=0\r\n\
//! o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n\
//! s=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\n\
//! m=audio 49172 RTP/AVP 0 101\r\n\
//! a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"[..])?;
//! let audio = &sdp.media[0];
//! assert_eq!(audio.port, 49172);
//! assert_eq!(audio.rtpmap(101).unwrap().encoding, "telephone-event");
//! assert_eq!(sdp.media_direction(0), Direction::SendOnly);
//! assert_eq!(SessionDescription::parse(sdp.to_bytes())?, sdp);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod attr;
mod error;
mod model;
pub mod negotiate;
mod parse;
mod text;
mod write;

use std::fmt;

use bytes::{Bytes, BytesMut};

pub use error::{AttributeError, ParseError, TextError};
pub use model::{Attribute, Bandwidth, Connection, Line, Media, Origin, SessionDescription, Timing, Word};
pub use negotiate::{
    Capabilities, Codec, MediaCapability, NegotiationError, Negotiator, OfferAnswer, Session, answer_direction,
    check_answer,
};
pub use parse::Mode;
pub use text::{Text, Token};

impl SessionDescription {
    /// Parses a description, rejecting whatever RFC 8866 forbids ([`Mode::Strict`]).
    pub fn parse(buf: impl Into<Bytes>) -> Result<Self, ParseError> {
        Self::parse_with(buf, Mode::Strict)
    }

    /// Parses a description the way deployed endpoints write them ([`Mode::Lenient`]).
    pub fn parse_lenient(buf: impl Into<Bytes>) -> Result<Self, ParseError> {
        Self::parse_with(buf, Mode::Lenient)
    }

    /// Parses a description in `mode`.
    pub fn parse_with(buf: impl Into<Bytes>, mode: Mode) -> Result<Self, ParseError> {
        parse::parse(&buf.into(), mode)
    }

    /// Writes the description: RFC 8866 line order, CRLF line ends.
    pub fn encode(&self, out: &mut BytesMut) {
        write::write(out, self);
    }

    /// The description as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(512);
        self.encode(&mut out);
        out.freeze()
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.to_bytes()))
    }
}
