//! Reliable provisional responses (RFC 3262) on virtual time: 100rel, RSeq, PRACK with
//! RAck, retransmission until the PRACK, offer/answer in the 1xx and the PRACK.

use std::time::{Duration, Instant};

mod common;
use common::*;

use sip_dialog::{
    DEFAULT_PROGRESS_REFRESH, Dialog, DialogState, EndReason, InviteSession, SessionConfig, SessionEvent,
};
use sip_message::header::{MediaType, RAck};
use sip_message::{HeaderName, Message, Method, Request, Response, StatusCode, Uri};
use sip_sdp::{Negotiator, OfferAnswer};

fn header(r: &Response, name: HeaderName) -> Option<String> {
    r.headers.get(&name).map(|h| String::from_utf8_lossy(h.value()).into_owned())
}

/// Alice's INVITE, with `Supported: 100rel` when `rel`, an offer unless `offerless`.
fn invite(alice: &mut Negotiator, rel: bool, offerless: bool) -> Request {
    let supported = if rel { "Supported: 100rel, timer\r\n" } else { "" };
    let text = format!(
        "INVITE sip:bob@biloxi.example.com SIP/2.0\r
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKprack1\r
Max-Forwards: 70\r
From: Alice <sip:alice@atlanta.example.com>;tag=alice1\r
To: Bob <sip:bob@biloxi.example.com>\r
Call-ID: prack-test@atlanta.example.com\r
CSeq: 7 INVITE\r
Contact: <sip:alice@192.0.2.1>\r
{supported}Content-Length: 0\r
\r
"
    );
    let Ok(Message::Request(mut r)) = Message::parse(text.into_bytes()) else { unreachable!() };
    if !offerless {
        r.set_body(Some(MediaType::application_sdp()), alice.create_offer().to_bytes());
    }
    match wire(r) {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn bob(invite: &Request) -> Session {
    let contact: Uri = "sip:bob@192.0.2.2".parse().expect("uri");
    let dialog = Dialog::new_uas_early(invite, "bob1", &contact).expect("dialog");
    InviteSession::uas(
        dialog,
        invite.clone(),
        negotiator(2, 40000),
        SessionConfig { session_expires: None, ..SessionConfig::default() },
        Counter::default(),
    )
    .expect("session")
}

fn alice(invite: &Request, first: &Response, n: Negotiator) -> Session {
    let dialog = Dialog::new_uac(invite, first).expect("dialog");
    InviteSession::uac(
        Instant::now(),
        dialog,
        invite,
        first,
        n,
        SessionConfig { session_expires: None, ..SessionConfig::default() },
        Counter(50),
    )
    .expect("session")
}

#[test]
fn answer_in_a_reliable_183_then_prack_then_200() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, true, false);
    let mut bob = bob(&invite);
    assert!(bob.reliable_provisional());
    bob.progress(t0, StatusCode::SESSION_PROGRESS).unwrap();
    let out = drain(&mut bob);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    let p183 = responses(&out).remove(0);
    assert_eq!(p183.status, StatusCode::SESSION_PROGRESS);
    assert_eq!(header(&p183, HeaderName::REQUIRE).as_deref(), Some("100rel"));
    let rseq: u32 = header(&p183, HeaderName::RSEQ).unwrap().parse().unwrap();
    assert!((1..=0x7fff_ffff).contains(&rseq));
    assert_eq!(sdp(&p183.body).media[0].port, 40000, "the answer rides in the 183");

    // Alice's early session PRACKs it, with RAck naming the 183 and the INVITE.
    let mut alice = alice(&invite, &p183, alice_n);
    let out = drain(&mut alice);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    assert_eq!(alice.dialog().state(), DialogState::Early);
    let prack = requests(&out).remove(0);
    assert_eq!(prack.method, Method::PRACK);
    assert_eq!(prack.uri.to_string(), "sip:bob@192.0.2.2");
    assert_eq!(prack.headers.cseq().unwrap().unwrap().seq, 8);
    let rack = prack.headers.typed::<RAck>().unwrap().unwrap();
    assert_eq!((rack.rseq, rack.cseq, rack.method), (rseq, 7, Method::INVITE));
    assert!(prack.body.is_empty());

    // Bob accepts before the PRACK: the 200 waits for it (the 183 had SDP).
    bob.accept(t0 + Duration::from_millis(100)).unwrap();
    assert!(drain(&mut bob).is_empty());
    bob.receive_request(t0 + Duration::from_millis(200), &prack);
    let out = drain(&mut bob);
    let rs = responses(&out);
    assert_eq!(rs.len(), 2);
    assert_eq!((rs[0].status, rs[0].headers.cseq().unwrap().unwrap().method), (StatusCode::OK, Method::PRACK));
    assert_eq!((rs[1].status, rs[1].headers.cseq().unwrap().unwrap().method), (StatusCode::OK, Method::INVITE));
    assert!(rs[1].body.is_empty(), "offer/answer was done in the 183 and PRACK");

    // Alice's 2xx: ACK, the session as negotiated in the 183.
    alice.receive_response(t0 + Duration::from_millis(300), &rs[1]).unwrap();
    let out = drain(&mut alice);
    let ack = requests(&out).remove(0);
    assert_eq!(ack.method, Method::ACK);
    assert_eq!(ack.headers.cseq().unwrap().unwrap().seq, 7);
    assert!(ack.body.is_empty());
    assert_eq!(alice.dialog().state(), DialogState::Confirmed);
    let OfferAnswer::Negotiated(session) = alice.offer_answer() else { panic!("not negotiated") };
    assert_eq!(session.remote.media[0].port, 40000);
    bob.receive_request(t0 + Duration::from_millis(400), &ack);
    assert_eq!(bob.poll_timeout(), None);
}

#[test]
fn reliable_provisional_is_retransmitted_until_prack_or_500() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, true, false);
    let mut bob = bob(&invite);
    bob.ring(t0, StatusCode::RINGING).unwrap();
    let first = responses(&drain(&mut bob)).remove(0);
    assert_eq!(header(&first, HeaderName::REQUIRE).as_deref(), Some("100rel"));
    // A second reliable 1xx before the PRACK is refused.
    assert!(bob.ring(t0, StatusCode::RINGING).is_err());
    let mut sent = Vec::new();
    let mut end = None;
    while let Some(when) = bob.poll_timeout() {
        bob.handle_timeout(when);
        let out = drain(&mut bob);
        for r in responses(&out) {
            if r.status == StatusCode::RINGING {
                assert_eq!(r.to_bytes(), first.to_bytes());
                sent.push(when.duration_since(t0).as_millis());
            } else {
                end = Some((when.duration_since(t0), r.status, events(&out)));
            }
        }
    }
    // T1 doubling, no cap (RFC 3262 §3), for 64·T1.
    assert_eq!(sent, [500, 1500, 3500, 7500, 15500, 31500]);
    let (at, status, evs) = end.expect("the INVITE rejected");
    assert_eq!(at, Duration::from_secs(32));
    assert_eq!(status, StatusCode::SERVER_INTERNAL_ERROR);
    assert_eq!(evs, [SessionEvent::Ended(EndReason::NoPrack)]);
    assert!(bob.is_ended());
}

#[test]
fn offer_in_a_reliable_183_answered_in_the_prack() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, true, true);
    let mut bob = bob(&invite);
    bob.progress(t0, StatusCode::SESSION_PROGRESS).unwrap();
    let p183 = responses(&drain(&mut bob)).remove(0);
    assert_eq!(sdp(&p183.body).media[0].port, 40000, "Bob's offer");

    let mut alice = alice(&invite, &p183, alice_n);
    let out = drain(&mut alice);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    let prack = requests(&out).remove(0);
    assert_eq!(sdp(&prack.body).media[0].port, 30000, "Alice's answer in the PRACK");

    bob.receive_request(t0 + Duration::from_millis(100), &prack);
    let out = drain(&mut bob);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    assert_eq!(responses(&out).iter().map(|r| r.status.as_u16()).collect::<Vec<_>>(), [200]);
    // The retransmissions stopped: what is left is the minute's refresh of §13.3.1.1.
    assert_eq!(bob.poll_timeout(), Some(t0 + DEFAULT_PROGRESS_REFRESH));
    // A repeat of the 183 is not PRACKed again.
    alice.receive_response(t0 + Duration::from_millis(500), &p183).unwrap();
    assert!(requests(&drain(&mut alice)).is_empty());
    // Still unanswered a minute on: the 183 goes anew, reliably with the next RSeq, and
    // without a session description (its offer/answer is done).
    bob.handle_timeout(t0 + DEFAULT_PROGRESS_REFRESH);
    let again = responses(&drain(&mut bob)).remove(0);
    assert_eq!(again.status, StatusCode::SESSION_PROGRESS);
    let rseq = |r: &Response| header(r, HeaderName::RSEQ).and_then(|v| v.parse::<u32>().ok());
    assert_eq!(rseq(&again), rseq(&p183).map(|n| n + 1));
    assert!(again.body.is_empty());
}

#[test]
fn a_prack_after_the_200_still_acknowledges_its_180() {
    // RFC 3262 §3: a 2xx may go before the PRACK of a 1xx without a session description;
    // that 1xx stays unacknowledged until its PRACK, which then gets 200, not 481.
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, true, false);
    let mut bob = bob(&invite);
    bob.ring(t0, StatusCode::RINGING).unwrap();
    let r180 = responses(&drain(&mut bob)).remove(0);
    bob.accept(t0).unwrap();
    let statuses: Vec<u16> = responses(&drain(&mut bob)).iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [200], "no 180 is sent again");
    let mut alice = alice(&invite, &r180, alice_n);
    let prack = requests(&drain(&mut alice)).remove(0);
    bob.receive_request(t0 + Duration::from_millis(10), &prack);
    let rs = responses(&drain(&mut bob));
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, StatusCode::OK);
    assert_eq!(rs[0].headers.cseq().unwrap().unwrap().method, Method::PRACK);
    // Acknowledged once: the same RAck again is for nothing.
    bob.receive_request(t0 + Duration::from_millis(20), &prack);
    assert_eq!(responses(&drain(&mut bob))[0].status, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
}

#[test]
fn prack_for_nothing_gets_481() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, true, false);
    let mut bob = bob(&invite);
    bob.ring(t0, StatusCode::RINGING).unwrap();
    let r180 = responses(&drain(&mut bob)).remove(0);
    let mut alice = alice(&invite, &r180, alice_n);
    let prack = requests(&drain(&mut alice)).remove(0);
    let text = String::from_utf8(prack.to_bytes().to_vec()).unwrap();
    let rack = prack.headers.typed::<RAck>().unwrap().unwrap();
    let wrong = text.replace(&format!("RAck: {} 7 INVITE", rack.rseq), &format!("RAck: {} 7 INVITE", rack.rseq + 5));
    let Ok(Message::Request(wrong)) = Message::parse(wrong.into_bytes()) else { panic!() };
    bob.receive_request(t0, &wrong);
    let rs = responses(&drain(&mut bob));
    assert_eq!(rs[0].status, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
    // The right one is taken.
    bob.receive_request(t0, &prack);
    assert_eq!(responses(&drain(&mut bob))[0].status, StatusCode::OK);
}

#[test]
fn without_100rel_provisional_responses_are_plain() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false, false);
    let mut bob = bob(&invite);
    assert!(!bob.reliable_provisional());
    bob.ring(t0, StatusCode::RINGING).unwrap();
    let r = responses(&drain(&mut bob)).remove(0);
    assert!(header(&r, HeaderName::RSEQ).is_none());
    assert!(header(&r, HeaderName::REQUIRE).is_none());
    // Not retransmitted, only sent again after a minute (§13.3.1.1).
    assert_eq!(bob.poll_timeout(), Some(t0 + DEFAULT_PROGRESS_REFRESH));
    assert!(bob.progress(t0, StatusCode::SESSION_PROGRESS).is_err());
    // Alice's early session sends no PRACK for it; a decline ends it.
    let mut alice = alice(&invite, &r, alice_n);
    assert!(requests(&drain(&mut alice)).is_empty());
    let busy = {
        let mut b = Response::from_request(&invite, StatusCode::BUSY_HERE).with_to_tag("bob1").unwrap();
        b.headers.remove(&HeaderName::CONTACT);
        b
    };
    alice.receive_response(t0, &busy).unwrap();
    assert_eq!(events(&drain(&mut alice)), [SessionEvent::Ended(EndReason::Rejected(StatusCode::BUSY_HERE))]);
}

#[test]
fn bye_in_an_early_dialog() {
    // §15: the caller may send BYE in an early dialog; the callee answers it 200 and ends
    // the INVITE with 487. The callee itself may not.
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false, false);
    let mut bob = bob(&invite);
    bob.ring(t0, StatusCode::RINGING).unwrap();
    let r180 = responses(&drain(&mut bob)).remove(0);
    assert!(bob.bye().is_err());
    let mut alice = alice(&invite, &r180, alice_n);
    drain(&mut alice);
    alice.bye().unwrap();
    let out = drain(&mut alice);
    let bye = requests(&out).remove(0);
    assert_eq!(bye.method, Method::BYE);
    assert_eq!(bye.headers.cseq().unwrap().unwrap().seq, 8);
    assert_eq!(bye.headers.to().unwrap().unwrap().tag(), Some("bob1"));
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::ByeSent)]);

    bob.receive_request(t0, &bye);
    let out = drain(&mut bob);
    let rs = responses(&out);
    let got: Vec<(u16, Method)> =
        rs.iter().map(|r| (r.status.as_u16(), r.headers.cseq().unwrap().unwrap().method)).collect();
    assert_eq!(got, [(487, Method::INVITE), (200, Method::BYE)]);
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::ByeReceived)]);
}
