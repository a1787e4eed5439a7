//! The offer/answer model (RFC 3264, with the practice of RFC 6337): answers built from local
//! capabilities, offers and re-offers (hold, resume, streams added and removed), checks
//! that an answer answers an offer, and the state of one exchange for the dialog layer.

use std::net::IpAddr;

use thiserror::Error;

use crate::attr::{Direction, Fmtp, Ptime, RtcpMux, Rtpmap, TypedAttribute};
use crate::model::{Attribute, Connection, Media, Origin, SessionDescription, Word};
use crate::text::{Text, Token};

/// Why an offer could not be answered, or an answer does not answer its offer.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NegotiationError {
    /// The answer has a different number of media descriptions than the offer (§6).
    #[error("the answer has {answer} media descriptions, the offer {offer}")]
    MediaCount {
        /// m-lines in the offer.
        offer: usize,
        /// m-lines in the answer.
        answer: usize,
    },
    /// A media description of the answer has another media type than the offer's (§6).
    #[error("media {0}: the answer's media type differs from the offer's")]
    MediaType(usize),
    /// A stream the offer disabled (port 0) is not disabled in the answer (§6).
    #[error("media {0}: the offer disabled the stream but the answer does not")]
    DisabledStreamAnswered(usize),
    /// An accepted stream lists a format the offer did not (§6.1).
    #[error("media {0}: the answer lists a format the offer does not")]
    UnofferedFormat(usize),
    /// An accepted stream's direction is not a possible answer to the offered one (§6.1).
    #[error("media {index}: direction {answer:?} does not answer {offer:?}")]
    Direction {
        /// The media index.
        index: usize,
        /// The offered direction.
        offer: Direction,
        /// The answered direction.
        answer: Direction,
    },
    /// An accepted stream has no connection address.
    #[error("media {0}: no connection address")]
    NoConnection(usize),
    /// The offer has no media this side can accept at all.
    #[error("no offered stream can be accepted")]
    NothingAcceptable,
    /// An operation that needs a negotiated session came before one.
    #[error("no session has been negotiated yet")]
    NoSession,
    /// The state of the exchange does not allow this step (RFC 3264 §4: one offer at a time).
    #[error("{0}")]
    State(&'static str),
}

/// A codec this side can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    /// The encoding name (`PCMU`, `opus`, `telephone-event`, `H264`).
    pub name: Token,
    /// The RTP clock rate.
    pub clock_rate: u32,
    /// The number of channels (1 unless said).
    pub channels: u32,
    /// The payload type to offer it with (static types keep theirs).
    pub payload_type: u8,
    /// The format parameters to announce, if any.
    pub fmtp: Option<Text>,
}

impl Codec {
    /// A codec from its name, clock rate and payload type (one channel, no fmtp).
    pub fn new(name: &'static str, clock_rate: u32, payload_type: u8) -> Self {
        Self { name: Token::from_static(name), clock_rate, channels: 1, payload_type, fmtp: None }
    }

    /// The same codec with format parameters.
    pub fn with_fmtp(mut self, fmtp: &'static str) -> Self {
        self.fmtp = Some(Text::from_static(fmtp));
        self
    }

    /// The same codec with a number of channels.
    pub fn with_channels(mut self, channels: u32) -> Self {
        self.channels = channels;
        self
    }

    /// PCMU (payload type 0).
    pub fn pcmu() -> Self {
        Self::new("PCMU", 8000, 0)
    }

    /// PCMA (payload type 8).
    pub fn pcma() -> Self {
        Self::new("PCMA", 8000, 8)
    }

    /// RFC 4733 DTMF events 0–15 at 8 kHz on payload type 101.
    pub fn telephone_event() -> Self {
        Self::new("telephone-event", 8000, 101).with_fmtp("0-15")
    }

    fn rtpmap(&self, payload_type: u8) -> Rtpmap {
        Rtpmap {
            payload_type,
            encoding: self.name.clone(),
            clock_rate: self.clock_rate,
            parameters: (self.channels != 1).then(|| Token::trusted(bytes::Bytes::from(self.channels.to_string()))),
        }
    }
}

/// The static payload types of RFC 3551 that audio and video endpoints meet.
fn static_codec(pt: u8) -> Option<(&'static str, u32, u32)> {
    Some(match pt {
        0 => ("PCMU", 8000, 1),
        3 => ("GSM", 8000, 1),
        4 => ("G723", 8000, 1),
        5 => ("DVI4", 8000, 1),
        6 => ("DVI4", 16000, 1),
        7 => ("LPC", 8000, 1),
        8 => ("PCMA", 8000, 1),
        9 => ("G722", 8000, 1),
        10 => ("L16", 44100, 2),
        11 => ("L16", 44100, 1),
        12 => ("QCELP", 8000, 1),
        13 => ("CN", 8000, 1),
        14 => ("MPA", 90000, 1),
        15 => ("G728", 8000, 1),
        16 => ("DVI4", 11025, 1),
        17 => ("DVI4", 22050, 1),
        18 => ("G729", 8000, 1),
        25 => ("CelB", 90000, 1),
        26 => ("JPEG", 90000, 1),
        28 => ("nv", 90000, 1),
        31 => ("H261", 90000, 1),
        32 => ("MPV", 90000, 1),
        33 => ("MP2T", 90000, 1),
        34 => ("H263", 90000, 1),
        _ => return None,
    })
}

/// What this side can do with one media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaCapability {
    /// The media type (`audio`, `video`).
    pub kind: Token,
    /// The transport profiles accepted, the first one offered (`RTP/AVP`, `RTP/SAVP`, ...).
    pub protos: Vec<Word>,
    /// The codecs, in order of preference.
    pub codecs: Vec<Codec>,
    /// The local port for the first stream of this type (the next ones use port + 2, + 4, ...).
    pub port: u16,
    /// The direction this side wants (normally sendrecv).
    pub direction: Direction,
    /// The packet time to announce, if any.
    pub ptime: Option<u32>,
    /// Whether to offer and accept RTP/RTCP multiplexing (RFC 5761).
    pub rtcp_mux: bool,
}

impl MediaCapability {
    /// RTP/AVP audio on `port` with `codecs`, sendrecv.
    pub fn audio(port: u16, codecs: Vec<Codec>) -> Self {
        Self {
            kind: Token::from_static("audio"),
            protos: vec![Word::from_static("RTP/AVP")],
            codecs,
            port,
            direction: Direction::SendRecv,
            ptime: None,
            rtcp_mux: false,
        }
    }

    /// RTP/AVP video on `port` with `codecs`, sendrecv.
    pub fn video(port: u16, codecs: Vec<Codec>) -> Self {
        Self { kind: Token::from_static("video"), ..Self::audio(port, codecs) }
    }

    fn accepts_proto(&self, proto: &Word) -> bool {
        self.protos.iter().any(|p| p.as_bytes().eq_ignore_ascii_case(proto.as_bytes()))
    }
}

/// Everything this side can do, and who it is in `o=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The address in `o=` and `c=`.
    pub address: IpAddr,
    /// The user name in `o=` (`-` for none).
    pub username: Word,
    /// The session name, `s=`.
    pub session_name: Text,
    /// The media types, each with its codecs.
    pub media: Vec<MediaCapability>,
}

impl Capabilities {
    /// Capabilities for `address` with the media types given.
    pub fn new(address: IpAddr, media: Vec<MediaCapability>) -> Self {
        Self { address, username: Word::from_static("-"), session_name: Text::from_static("-"), media }
    }
}

/// The media format of an offered stream, resolved to a name, clock rate and channels.
fn offered_codec(media: &Media, pt: u8) -> Option<(Token, u32, u32)> {
    match media.rtpmap(pt) {
        Some(r) => Some((r.encoding.clone(), r.clock_rate, r.channels())),
        None => static_codec(pt).map(|(n, rate, ch)| (Token::from_static(n), rate, ch)),
    }
}

/// Whether offered format parameters are compatible with ours where it matters: H.264's
/// packetization mode must be the same (RFC 6184 §8.2.2; 0 when absent).
fn fmtp_compatible(name: &Token, ours: Option<&Text>, theirs: Option<&Fmtp>) -> bool {
    if !name.eq_ignore_case("H264") {
        return true;
    }
    let mode = |params: Option<&str>| {
        params
            .and_then(|p| {
                p.split(';').find_map(|kv| {
                    let (k, v) = kv.trim().split_once('=')?;
                    k.trim().eq_ignore_ascii_case("packetization-mode").then(|| v.trim().to_string())
                })
            })
            .unwrap_or_else(|| "0".to_string())
    };
    mode(ours.map(Text::as_str)) == mode(theirs.map(|f| f.parameters.as_str()))
}

/// The events of a telephone-event fmtp (`0-15,66,70`; 0–15 when there is none, RFC 4733
/// §2.4.1), as a set.
fn events(fmtp: Option<&str>) -> Option<[bool; 256]> {
    let mut set = [false; 256];
    let Some(list) = fmtp else {
        set[..16].fill(true);
        return Some(set);
    };
    for part in list.split(',') {
        let part = part.trim();
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let (lo, hi): (u8, u8) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
        if lo > hi {
            return None;
        }
        set[usize::from(lo)..=usize::from(hi)].fill(true);
    }
    Some(set)
}

/// The events both sides support, written as ranges; `None` when there are none.
fn common_events(ours: Option<&Text>, theirs: Option<&Fmtp>) -> Option<Text> {
    let (a, b) = (events(ours.map(Text::as_str))?, events(theirs.map(|f| f.parameters.as_str()))?);
    let mut out = String::new();
    let mut i = 0;
    while i < 256 {
        if a[i] && b[i] {
            let start = i;
            while i + 1 < 256 && a[i + 1] && b[i + 1] {
                i += 1;
            }
            if !out.is_empty() {
                out.push(',');
            }
            if start == i {
                out.push_str(&start.to_string());
            } else {
                out.push_str(&format!("{start}-{i}"));
            }
        }
        i += 1;
    }
    (!out.is_empty()).then(|| Text::trusted(bytes::Bytes::from(out)))
}

/// The direction to answer `offered` with, wanting `wanted` (RFC 3264 §6.1).
pub fn answer_direction(offered: Direction, wanted: Direction) -> Direction {
    Direction::from_flags(offered.receives() && wanted.sends(), offered.sends() && wanted.receives())
}

/// Builds offers and answers for one session, keeping `o=` the same session and raising its
/// version only when the description changes (RFC 3264 §8).
#[derive(Debug, Clone)]
pub struct Negotiator {
    capabilities: Capabilities,
    session_id: u64,
    /// The last description this side sent.
    local: Option<SessionDescription>,
}

impl Negotiator {
    /// A negotiator for a new session with id `session_id` (also the first version).
    pub fn new(capabilities: Capabilities, session_id: u64) -> Self {
        Self { capabilities, session_id, local: None }
    }

    /// The capabilities.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The last description this side sent, if any.
    pub fn local(&self) -> Option<&SessionDescription> {
        self.local.as_ref()
    }

    fn session(&self) -> SessionDescription {
        let mut origin = Origin::new(self.session_id, self.session_id, self.capabilities.address);
        origin.username = self.capabilities.username.clone();
        let mut sd = SessionDescription::new(origin);
        sd.session_name = self.capabilities.session_name.clone();
        sd.connection = Some(Connection::new(self.capabilities.address));
        sd
    }

    /// Sets the version of `sd`: the previous one if nothing else changed, else one more.
    fn finish(&mut self, mut sd: SessionDescription) -> SessionDescription {
        if let Some(prev) = &self.local {
            sd.origin.session_version = prev.origin.session_version;
            if sd != *prev {
                sd.origin.session_version = prev.origin.session_version.wrapping_add(1);
            }
        }
        self.local = Some(sd.clone());
        sd
    }

    fn port_for(&self, kind: &Token, nth: usize) -> Option<u16> {
        let cap = self.capabilities.media.iter().find(|c| c.kind.eq_ignore_case(kind.as_str()))?;
        u16::try_from(usize::from(cap.port) + 2 * nth).ok()
    }

    fn offer_media(cap: &MediaCapability, port: u16) -> Media {
        let formats =
            cap.codecs.iter().map(|c| Token::trusted(bytes::Bytes::from(c.payload_type.to_string()))).collect();
        let proto = cap.protos.first().cloned().unwrap_or_else(|| Word::from_static("RTP/AVP"));
        let mut m = Media::new(cap.kind.clone(), port, proto, formats);
        for c in &cap.codecs {
            m.attributes.push(c.rtpmap(c.payload_type).to_attribute());
            if let Some(f) = &c.fmtp {
                m.attributes.push(
                    Fmtp {
                        format: Token::trusted(bytes::Bytes::from(c.payload_type.to_string())),
                        parameters: f.clone(),
                    }
                    .to_attribute(),
                );
            }
        }
        if let Some(p) = cap.ptime {
            m.attributes.push(Ptime::from_millis(p).to_attribute());
        }
        if cap.rtcp_mux {
            m.attributes.push(RtcpMux.to_attribute());
        }
        m.attributes.push(cap.direction.to_attribute());
        m
    }

    /// An initial offer: one stream per media capability.
    pub fn create_offer(&mut self) -> SessionDescription {
        let mut sd = self.session();
        for cap in &self.capabilities.media {
            sd.media.push(Self::offer_media(cap, cap.port));
        }
        self.finish(sd)
    }

    /// A re-offer that adds a stream of the capability for `kind`.
    pub fn add_stream(&mut self, kind: &str) -> Result<SessionDescription, NegotiationError> {
        let mut sd = self.local.clone().ok_or(NegotiationError::NoSession)?;
        let token = Token::new(kind.as_bytes().to_vec()).map_err(|_| NegotiationError::State("not a media type"))?;
        let cap = self
            .capabilities
            .media
            .iter()
            .find(|c| c.kind.eq_ignore_case(kind))
            .ok_or(NegotiationError::NothingAcceptable)?;
        let nth = sd.media.iter().filter(|m| m.kind.eq_ignore_case(kind)).count();
        let port = self.port_for(&token, nth).ok_or(NegotiationError::State("no port left for the stream"))?;
        sd.media.push(Self::offer_media(cap, port));
        Ok(self.finish(sd))
    }

    /// A re-offer that removes stream `index` (its port set to 0, the m-line kept, §8.2).
    pub fn remove_stream(&mut self, index: usize) -> Result<SessionDescription, NegotiationError> {
        let mut sd = self.local.clone().ok_or(NegotiationError::NoSession)?;
        let m = sd.media.get_mut(index).ok_or(NegotiationError::State("no such stream"))?;
        m.port = 0;
        m.attributes.retain(|a| a.name.eq_ignore_case("rtpmap") || a.name.eq_ignore_case("fmtp"));
        Ok(self.finish(sd))
    }

    /// A re-offer that puts the call on hold: each active stream becomes sendonly, or
    /// inactive if it was recvonly (RFC 6337 §5.3).
    pub fn hold(&mut self) -> Result<SessionDescription, NegotiationError> {
        let mut sd = self.local.clone().ok_or(NegotiationError::NoSession)?;
        for i in 0..sd.media.len() {
            if sd.media[i].is_rejected() {
                continue;
            }
            let current = sd.media_direction(i);
            let held = if current.receives() && !current.sends() {
                Direction::Inactive
            } else {
                Direction::from_flags(current.sends(), false)
            };
            sd.media[i].set_direction(held);
        }
        Ok(self.finish(sd))
    }

    /// A re-offer that takes the call off hold: each active stream back to the direction its
    /// capability wants.
    pub fn resume(&mut self) -> Result<SessionDescription, NegotiationError> {
        let mut sd = self.local.clone().ok_or(NegotiationError::NoSession)?;
        for m in sd.media.iter_mut().filter(|m| !m.is_rejected()) {
            let wanted =
                self.capabilities.media.iter().find(|c| c.kind == m.kind).map_or(Direction::SendRecv, |c| c.direction);
            m.set_direction(wanted);
        }
        Ok(self.finish(sd))
    }

    /// The answer to `offer` (RFC 3264 §6): the same streams in the same order; each one
    /// accepted with the codecs both sides have (the offerer's payload type numbers, in the
    /// offer's order) and the answering direction of §6.1, or rejected with port 0.
    pub fn answer(&mut self, offer: &SessionDescription) -> Result<SessionDescription, NegotiationError> {
        let mut sd = self.session();
        let mut accepted_any = offer.media.is_empty();
        let mut seen: Vec<(Token, usize)> = Vec::new();
        for (i, offered) in offer.media.iter().enumerate() {
            let nth = match seen.iter_mut().find(|(k, _)| k.eq_ignore_case(offered.kind.as_str())) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    seen.push((offered.kind.clone(), 1));
                    0
                }
            };
            let answer = self.answer_media(offer, i, offered, nth);
            accepted_any |= !answer.is_rejected();
            sd.media.push(answer);
        }
        if !accepted_any {
            return Err(NegotiationError::NothingAcceptable);
        }
        Ok(self.finish(sd))
    }

    fn answer_media(&self, offer: &SessionDescription, index: usize, offered: &Media, nth: usize) -> Media {
        // A rejected stream keeps one format, ignored but still valid (§6): the first
        // offered one, or 0 when the offer had none fit for its profile.
        let rejected = || {
            let format = if offered.is_rtp() {
                offered.payload_types().next().map(|pt| Token::trusted(bytes::Bytes::from(pt.to_string())))
            } else {
                offered.formats.first().cloned()
            };
            Media::new(
                offered.kind.clone(),
                0,
                offered.proto.clone(),
                vec![format.unwrap_or_else(|| Token::from_static("0"))],
            )
        };
        let Some(cap) = self.capabilities.media.iter().find(|c| c.kind.eq_ignore_case(offered.kind.as_str())) else {
            return rejected();
        };
        if offered.is_rejected() || !cap.accepts_proto(&offered.proto) || !offered.is_rtp() {
            return rejected();
        }
        // The formats both sides have, in the offer's order, with the offer's numbers.
        let mut formats = Vec::new();
        let mut attributes: Vec<Attribute> = Vec::new();
        for pt in offered.payload_types() {
            let Some((name, rate, channels)) = offered_codec(offered, pt) else { continue };
            let theirs = offered.fmtp(pt);
            let ours = cap.codecs.iter().find(|c| {
                c.name.eq_ignore_case(name.as_str())
                    && c.clock_rate == rate
                    && c.channels == channels
                    && fmtp_compatible(&c.name, c.fmtp.as_ref(), theirs.as_ref())
            });
            let Some(codec) = ours else { continue };
            // Telephone events: only those both sides know (RFC 4733 §7.1.1).
            let fmtp = if codec.name.eq_ignore_case("telephone-event") {
                match common_events(codec.fmtp.as_ref(), theirs.as_ref()) {
                    Some(events) => Some(events),
                    None => continue,
                }
            } else {
                codec.fmtp.clone()
            };
            let format = Token::trusted(bytes::Bytes::from(pt.to_string()));
            formats.push(format.clone());
            attributes.push(codec.rtpmap(pt).to_attribute());
            if let Some(f) = fmtp {
                attributes.push(Fmtp { format, parameters: f }.to_attribute());
            }
        }
        let Some(port) = self.port_for(&offered.kind, nth) else {
            return rejected();
        };
        if formats.is_empty() {
            return rejected();
        }
        let mut m = Media::new(offered.kind.clone(), port, offered.proto.clone(), formats);
        m.attributes = attributes;
        if let Some(p) = cap.ptime {
            m.attributes.push(Ptime::from_millis(p).to_attribute());
        }
        if cap.rtcp_mux && offered.has_attribute("rtcp-mux") {
            m.attributes.push(RtcpMux.to_attribute());
        }
        m.set_direction(answer_direction(offer.media_direction(index), cap.direction));
        m
    }
}

/// Checks that `answer` is a valid answer to `offer` (RFC 3264 §6, §6.1).
pub fn check_answer(offer: &SessionDescription, answer: &SessionDescription) -> Result<(), NegotiationError> {
    if offer.media.len() != answer.media.len() {
        return Err(NegotiationError::MediaCount { offer: offer.media.len(), answer: answer.media.len() });
    }
    for (i, (o, a)) in offer.media.iter().zip(&answer.media).enumerate() {
        if !o.kind.eq_ignore_case(a.kind.as_str()) {
            return Err(NegotiationError::MediaType(i));
        }
        if o.is_rejected() && !a.is_rejected() {
            return Err(NegotiationError::DisabledStreamAnswered(i));
        }
        if a.is_rejected() {
            continue;
        }
        if answer.media_connection(i).is_none() {
            return Err(NegotiationError::NoConnection(i));
        }
        if o.is_rtp() {
            // Every answered payload type was offered (by number, or for a dynamic type by
            // the same encoding under another number).
            for pt in a.payload_types() {
                let offered = o.payload_types().any(|p| p == pt)
                    || offered_codec(a, pt).is_some_and(|(name, rate, ch)| {
                        o.payload_types().any(|p| {
                            offered_codec(o, p)
                                .is_some_and(|(n, r, c)| n.eq_ignore_case(name.as_str()) && r == rate && c == ch)
                        })
                    });
                if !offered {
                    return Err(NegotiationError::UnofferedFormat(i));
                }
            }
        }
        let (od, ad) = (offer.media_direction(i), answer.media_direction(i));
        let possible = (ad.sends() <= od.receives()) && (ad.receives() <= od.sends());
        if !possible {
            return Err(NegotiationError::Direction { index: i, offer: od, answer: ad });
        }
    }
    Ok(())
}

/// A completed exchange: the session in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// This side's description.
    pub local: SessionDescription,
    /// The peer's description.
    pub remote: SessionDescription,
}

/// The state of one offer/answer exchange, as a dialog holds it (RFC 3264 §4; RFC 6337).
/// Descriptions are boxed, so the state is a few words wide.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OfferAnswer {
    /// No offer made yet.
    #[default]
    Initial,
    /// This side sent an offer and waits for the answer.
    OfferSent {
        /// The offer.
        offer: Box<SessionDescription>,
        /// The session before it, if any.
        previous: Option<Box<Session>>,
    },
    /// The peer sent an offer that this side has to answer.
    OfferReceived {
        /// The offer.
        offer: Box<SessionDescription>,
        /// The session before it, if any.
        previous: Option<Box<Session>>,
    },
    /// An exchange completed.
    Negotiated(Box<Session>),
}

impl OfferAnswer {
    fn take_current(&mut self) -> Option<Box<Session>> {
        match std::mem::take(self) {
            Self::Negotiated(session) => Some(session),
            _ => None,
        }
    }

    /// Whether an offer is outstanding (a new one would be glare: 491, RFC 3261 §14.1).
    pub fn offer_pending(&self) -> bool {
        matches!(self, Self::OfferSent { .. } | Self::OfferReceived { .. })
    }

    /// Records an offer this side sends.
    pub fn send_offer(&mut self, offer: SessionDescription) -> Result<(), NegotiationError> {
        if self.offer_pending() {
            return Err(NegotiationError::State("an offer is already outstanding"));
        }
        let previous = self.take_current();
        *self = Self::OfferSent { offer: Box::new(offer), previous };
        Ok(())
    }

    /// Records an offer from the peer.
    pub fn receive_offer(&mut self, offer: SessionDescription) -> Result<(), NegotiationError> {
        if self.offer_pending() {
            return Err(NegotiationError::State("an offer is already outstanding"));
        }
        let previous = self.take_current();
        *self = Self::OfferReceived { offer: Box::new(offer), previous };
        Ok(())
    }

    /// Records the peer's answer to this side's offer, after checking it answers it.
    pub fn receive_answer(&mut self, answer: SessionDescription) -> Result<(), NegotiationError> {
        let Self::OfferSent { offer, .. } = self else {
            return Err(NegotiationError::State("no offer of ours to answer"));
        };
        check_answer(offer, &answer)?;
        let local = (**offer).clone();
        *self = Self::Negotiated(Box::new(Session { local, remote: answer }));
        Ok(())
    }

    /// Records this side's answer to the peer's offer.
    pub fn send_answer(&mut self, answer: SessionDescription) -> Result<(), NegotiationError> {
        let Self::OfferReceived { offer, .. } = self else {
            return Err(NegotiationError::State("no offer from the peer to answer"));
        };
        check_answer(offer, &answer)?;
        // The offer moves into the session (it was checked to be there just above).
        if let Self::OfferReceived { offer, .. } = std::mem::take(self) {
            *self = Self::Negotiated(Box::new(Session { local: answer, remote: *offer }));
        }
        Ok(())
    }

    /// Drops an outstanding offer that was rejected (a non-2xx final response to the
    /// re-INVITE, or a 491): the session before it stays in force.
    pub fn rollback(&mut self) {
        let previous = match self {
            Self::OfferSent { previous, .. } | Self::OfferReceived { previous, .. } => previous.take(),
            _ => return,
        };
        *self = match previous {
            Some(session) => Self::Negotiated(session),
            None => Self::Initial,
        };
    }

    /// The session in force, if one was negotiated (and no re-offer is outstanding).
    pub fn negotiated(&self) -> Option<&Session> {
        match self {
            Self::Negotiated(session) => Some(session),
            _ => None,
        }
    }
}
