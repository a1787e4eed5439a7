//! One whole call through the sans-IO cores `sipkit answer` runs, without sockets or the
//! runtime, for the `call` bench and the `profile_call` example: the caller's INVITE (with
//! an SDP offer) parsed, stamped as the UDP transport stamps it, taken by the transaction
//! layer, answered 200 with an SDP answer by the answerer and encoded; the ACK; the BYE and
//! its 200. The caller's side is kept out of the work as far as it can be: the INVITEs are
//! built beforehand, and the ACK and BYE are templates with the answerer's To tag spliced in.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use sip_message::header::Transport as TransportName;
use sip_message::{Message, Method, StatusCode, Uri};
use sip_transaction::{Config, TransactionLayer};
use sip_transport::rules::{ResponseRoute, request_response_route};
use sip_transport::{Received, Source, Target};
use sip_ua::answer::{Action, AnswerPolicy, Answerer};

const CALLER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5071);
const ANSWERER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5090);

/// The caller's request `method` of call `n`, in the form SIPp's `uac` scenario sends:
/// the To tag (for ACK and BYE) goes between `head` and `tail`.
fn request(method: &str, n: u64, cseq: u32, body: &str) -> (String, String) {
    let content_type = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" };
    let head = format!(
        "{method} sip:service@127.0.0.1:5090 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5071;branch=z9hG4bK-{n}-{method}\r\n\
         From: sipp <sip:sipp@127.0.0.1:5071>;tag={n}SIPpTag00\r\n\
         To: service <sip:service@127.0.0.1:5090>"
    );
    let tail = format!(
        "\r\nCall-ID: {n}-bench@127.0.0.1\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: sip:sipp@127.0.0.1:5071\r\n\
         Max-Forwards: 70\r\n\
         Subject: Performance Test\r\n\
         {content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    (head, tail)
}

const OFFER: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
                     t=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// One call's caller side, in the form SIPp's `uac` scenario sends: the INVITE, and the
/// ACK and BYE templates.
pub struct CallerSide {
    /// The INVITE, with an SDP offer.
    pub invite: Bytes,
    /// The ACK, without the To tag.
    pub ack: (String, String),
    /// The BYE, without the To tag.
    pub bye: (String, String),
}

/// Call `n`'s caller side (its Call-ID, branches and From tag made from `n`).
pub fn caller_side(n: u64) -> CallerSide {
    let (head, tail) = request("INVITE", n, 1, OFFER);
    CallerSide {
        invite: Bytes::from(format!("{head}{tail}")),
        ack: request("ACK", n, 1, ""),
        bye: request("BYE", n, 2, ""),
    }
}

/// A request template with the To tag `tag` in place.
pub fn with_tag((head, tail): &(String, String), tag: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(head.len() + tail.len() + tag.len() + 5);
    out.put_slice(head.as_bytes());
    out.put_slice(b";tag=");
    out.put_slice(tag);
    out.put_slice(tail.as_bytes());
    out.freeze()
}

/// Takes a datagram from the caller as `sipkit answer` does (the UDP transport's
/// `Received::from_bytes`, then the responses' route from the top Via, §18.2.2), and runs
/// both cores until they are quiet. Returns the To tag of a 2xx the answerer sent, if any.
pub fn deliver(
    layer: &mut TransactionLayer<Target>,
    answerer: &mut Answerer,
    now: Instant,
    datagram: Bytes,
) -> Option<Bytes> {
    let source = Source { transport: TransportName::UDP, local: ANSWERER, remote: CALLER, connection: None };
    let Received::Message { message: Message::Request(request), source } =
        Received::from_bytes(datagram, &sip_message::ParseLimits::default(), source)
    else {
        panic!("bench request")
    };
    let peer = match request_response_route(&request, &source) {
        Ok(ResponseRoute::Target(target)) => target,
        _ => Target::back_to(&source),
    };
    layer.handle_incoming(now, Message::Request(request), peer, false);
    let mut tag = None;
    loop {
        let mut busy = false;
        while let Some(transmit) = layer.poll_transmit() {
            busy = true;
            std::hint::black_box(transmit.bytes);
        }
        while let Some(event) = layer.poll_event() {
            busy = true;
            answerer.handle_event(now, event);
        }
        while let Some(action) = answerer.poll_action() {
            busy = true;
            match action {
                Action::Respond { key, response } => {
                    if response.status == StatusCode::OK && key.method() == &Method::INVITE {
                        tag = response.headers.to_tag().and_then(Result::ok).flatten();
                    }
                    layer.send_response(now, &key, response).expect("the transaction is there");
                }
                Action::Report(report) => {
                    std::hint::black_box(report);
                }
                other => panic!("not in a plain call: {other:?}"),
            }
        }
        if !busy {
            return tag;
        }
    }
}

/// Runs `callers`' calls, one after another, through a new transaction layer and answerer,
/// and checks that every call was answered and ended and every transaction is gone.
/// (Never inlined: a profiler counts it apart from building the callers' requests.)
#[inline(never)]
pub fn run_calls(callers: Vec<CallerSide>) {
    let contact: Uri = "sip:sipkit@127.0.0.1:5090".parse().expect("contact");
    let mut layer = TransactionLayer::new(Config::default());
    let mut answerer = Answerer::new(AnswerPolicy::default(), contact, IpAddr::V4(Ipv4Addr::LOCALHOST));
    let now = Instant::now();
    for caller in callers {
        let tag = deliver(&mut layer, &mut answerer, now, caller.invite).expect("answered");
        assert!(deliver(&mut layer, &mut answerer, now, with_tag(&caller.ack, &tag)).is_none());
        deliver(&mut layer, &mut answerer, now, with_tag(&caller.bye, &tag));
    }
    // Every call ended with its BYE; the transactions end with their timers.
    assert_eq!(answerer.calls(), 0);
    layer.handle_timeout(now + Duration::from_secs(40));
    assert!(layer.is_empty());
}
