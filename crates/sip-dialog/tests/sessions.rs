//! INVITE session ladders on virtual time (RFC 3261 §13–15, RFC 3311): the messages each
//! side produces and the instants it produces them at.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

mod common;
use common::*;

use sip_dialog::{Dialog, DialogState, EndReason, InviteSession, Output, SessionConfig, SessionEvent};
use sip_message::header::MediaType;
use sip_message::{Message, Method, Request, Response, StatusCode, Uri};
use sip_sdp::attr::Direction;
use sip_sdp::{Capabilities, Codec, MediaCapability, Negotiator, OfferAnswer};

/// Alice's INVITE to Bob, with an offer from `alice` unless `offerless`.
fn invite(alice: &mut Negotiator, offerless: bool) -> Request {
    let Ok(Message::Request(mut r)) = Message::parse(
        &b"INVITE sip:bob@biloxi.example.com SIP/2.0\r
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKinvite1\r
Max-Forwards: 70\r
From: Alice <sip:alice@atlanta.example.com>;tag=alice1\r
To: Bob <sip:bob@biloxi.example.com>\r
Call-ID: session-test@atlanta.example.com\r
CSeq: 1 INVITE\r
Contact: <sip:alice@192.0.2.1>\r
Content-Length: 0\r
\r
"[..],
    ) else {
        unreachable!()
    };
    if !offerless {
        r.set_body(Some(MediaType::application_sdp()), alice.create_offer().to_bytes());
    }
    as_request(wire(r))
}

/// Session timers off: these ladders are about the other timers (see `timers.rs`).
fn config() -> SessionConfig {
    SessionConfig { session_expires: None, ..SessionConfig::default() }
}

/// Bob's session for `invite`, before any answer.
fn bob_session(invite: &Request) -> Session {
    let contact: Uri = "sip:bob@192.0.2.2".parse().expect("uri");
    let dialog = Dialog::new_uas_early(invite, "bob1", &contact).expect("dialog");
    InviteSession::uas(dialog, invite.clone(), negotiator(2, 40000), config(), Counter::default()).expect("session")
}

/// Alice's session from Bob's 2xx.
fn alice_session(invite: &Request, ok: &Response, alice: Negotiator) -> Session {
    let dialog = Dialog::new_uac(invite, ok).expect("dialog");
    InviteSession::uac(Instant::now(), dialog, invite, ok, alice, config(), Counter(100)).expect("session")
}

fn at(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

#[test]
fn call_setup_with_offer_in_invite() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false);
    let mut bob = bob_session(&invite);
    bob.ring(t0, StatusCode::RINGING).unwrap();
    bob.accept(t0).unwrap();
    let out = drain(&mut bob);
    assert_eq!(status_codes(&out), [180, 200]);
    let rs = responses(&out);
    let ok = &rs[1];
    // 200 with Bob's tag, his Contact, and the answer: PCMU, PCMA, telephone-event at
    // Alice's payload types.
    assert_eq!(ok.headers.to().unwrap().unwrap().tag(), Some("bob1"));
    assert_eq!(ok.headers.contact().next().unwrap().unwrap().address().unwrap().uri().to_string(), "sip:bob@192.0.2.2");
    assert!(rs[0].body.is_empty());
    let answer = sdp(&ok.body);
    assert_eq!(answer.media[0].port, 40000);
    let formats: Vec<&str> = answer.media[0].formats.iter().map(|f| f.as_str()).collect();
    assert_eq!(formats, ["0", "8", "101"]);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    assert_eq!(bob.dialog().state(), DialogState::Confirmed);

    // Alice takes the 2xx: her ACK has the INVITE's CSeq number and no body.
    let mut alice = alice_session(&invite, ok, alice_n);
    let out = drain(&mut alice);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    let acks = requests(&out);
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    assert_eq!(ack.method, Method::ACK);
    assert_eq!(ack.uri.to_string(), "sip:bob@192.0.2.2");
    assert_eq!(ack.headers.cseq().unwrap().unwrap().seq, 1);
    assert!(ack.body.is_empty());
    assert!(matches!(alice.offer_answer(), OfferAnswer::Negotiated(_)));

    // Bob stops retransmitting once the ACK is in.
    assert_eq!(bob.poll_timeout(), Some(at(t0, 500)));
    bob.receive_request(at(t0, 100), ack);
    assert!(drain(&mut bob).is_empty());
    assert_eq!(bob.poll_timeout(), None);
    bob.handle_timeout(at(t0, 40_000));
    assert!(drain(&mut bob).is_empty());
    assert!(!bob.is_ended());
}

#[test]
fn uas_retransmits_the_2xx_until_its_ack_then_gives_up_with_bye() {
    // §13.3.1.4: the 2xx again at T1, 2T1, 4T1, ... capped at T2, until the ACK; none in
    // 64·T1 = 32 s ends the session with BYE.
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false);
    let mut bob = bob_session(&invite);
    bob.accept(t0).unwrap();
    let first = responses(&drain(&mut bob)).remove(0);
    let mut sent_at = Vec::new();
    while let Some(when) = bob.poll_timeout() {
        bob.handle_timeout(when);
        let out = drain(&mut bob);
        for r in responses(&out) {
            assert_eq!(r.to_bytes(), first.to_bytes(), "the same 2xx each time");
            sent_at.push(when.duration_since(t0).as_millis());
        }
        if !requests(&out).is_empty() {
            // The BYE at 32 s.
            assert_eq!(when.duration_since(t0), Duration::from_secs(32));
            let bye = &requests(&out)[0];
            assert_eq!(bye.method, Method::BYE);
            assert_eq!(bye.uri.to_string(), "sip:alice@192.0.2.1");
            assert_eq!(bye.headers.cseq().unwrap().unwrap().seq, 1);
            assert_eq!(bye.headers.from().unwrap().unwrap().tag(), Some("bob1"));
            assert_eq!(events(&out), [SessionEvent::Ended(EndReason::NoAck)]);
        }
    }
    assert_eq!(sent_at, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    assert!(bob.is_ended());
    // A late ACK changes nothing; a late request gets 481.
    let late = Request { method: Method::INFO, ..invite.clone() };
    bob.receive_request(at(t0, 40_000), &late);
    let out = drain(&mut bob);
    assert!(status_codes(&out).iter().all(|&s| s == 481));
}

#[test]
fn offer_in_the_2xx_answer_in_the_ack() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, true);
    let mut bob = bob_session(&invite);
    bob.accept(t0).unwrap();
    let out = drain(&mut bob);
    assert!(events(&out).is_empty(), "nothing negotiated before the ACK");
    let ok = responses(&out).remove(0);
    let offer = sdp(&ok.body);
    assert_eq!(offer.media[0].port, 40000);
    assert!(matches!(bob.offer_answer(), OfferAnswer::OfferSent { .. }));

    let mut alice = alice_session(&invite, &ok, alice_n);
    let out = drain(&mut alice);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    let ack = requests(&out).remove(0);
    let answer = sdp(&ack.body);
    assert_eq!(answer.media[0].port, 30000);

    bob.receive_request(at(t0, 50), &ack);
    assert_eq!(events(&drain(&mut bob)), [SessionEvent::Negotiated]);
    let OfferAnswer::Negotiated(session) = bob.offer_answer() else { panic!("not negotiated") };
    assert_eq!(session.remote.media[0].port, 30000);
}

#[test]
fn uac_acks_every_2xx_retransmission() {
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false);
    let mut bob = bob_session(&invite);
    let t0 = Instant::now();
    bob.accept(t0).unwrap();
    let ok = responses(&drain(&mut bob)).remove(0);
    let mut alice = alice_session(&invite, &ok, alice_n);
    let first = requests(&drain(&mut alice)).remove(0);
    for n in 1..=3 {
        alice.receive_response(at(t0, 500 * n), &ok).unwrap();
        let out = drain(&mut alice);
        let again = requests(&out);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].to_bytes(), first.to_bytes(), "the same ACK");
        assert!(events(&out).is_empty());
    }
}

/// A confirmed call: Alice (UAC) and Bob (UAS), ACK delivered.
fn established() -> (Instant, Session, Session) {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false);
    let mut bob = bob_session(&invite);
    bob.accept(t0).unwrap();
    let ok = responses(&drain(&mut bob)).remove(0);
    let mut alice = alice_session(&invite, &ok, alice_n);
    let ack = requests(&drain(&mut alice)).remove(0);
    bob.receive_request(t0, &ack);
    drain(&mut bob);
    (t0, alice, bob)
}

#[test]
fn hold_and_resume_by_reinvite() {
    let (t0, mut alice, mut bob) = established();
    alice.hold().unwrap();
    let reinvite = requests(&drain(&mut alice)).remove(0);
    assert_eq!(reinvite.method, Method::INVITE);
    assert_eq!(reinvite.headers.cseq().unwrap().unwrap().seq, 2);
    assert_eq!(sdp(&reinvite.body).media_direction(0), Direction::SendOnly);

    bob.receive_request(at(t0, 1000), &reinvite);
    let out = drain(&mut bob);
    assert_eq!(status_codes(&out), [200]);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    let ok = responses(&out).remove(0);
    assert_eq!(sdp(&ok.body).media_direction(0), Direction::RecvOnly);

    alice.receive_response(at(t0, 1010), &ok).unwrap();
    let out = drain(&mut alice);
    assert_eq!(events(&out), [SessionEvent::Negotiated]);
    let ack = requests(&out).remove(0);
    assert_eq!(ack.method, Method::ACK);
    assert_eq!(ack.headers.cseq().unwrap().unwrap().seq, 2);
    bob.receive_request(at(t0, 1020), &ack);
    assert_eq!(bob.poll_timeout(), None, "the re-INVITE's 2xx was acknowledged");

    alice.resume().unwrap();
    let reinvite = requests(&drain(&mut alice)).remove(0);
    assert_eq!(reinvite.headers.cseq().unwrap().unwrap().seq, 3);
    assert_eq!(sdp(&reinvite.body).media_direction(0), Direction::SendRecv);
    bob.receive_request(at(t0, 2000), &reinvite);
    let ok = responses(&drain(&mut bob)).remove(0);
    assert_eq!(sdp(&ok.body).media_direction(0), Direction::SendRecv);
    alice.receive_response(at(t0, 2010), &ok).unwrap();
    let OfferAnswer::Negotiated(session) = alice.offer_answer() else { panic!("not negotiated") };
    assert_eq!(session.remote.media_direction(0), Direction::SendRecv);
}

#[test]
fn glare_gets_491_and_a_randomized_retry() {
    let (t0, mut alice, mut bob) = established();
    // Both send a re-INVITE at once.
    alice.hold().unwrap();
    let from_alice = requests(&drain(&mut alice)).remove(0);
    bob.hold().unwrap();
    let from_bob = requests(&drain(&mut bob)).remove(0);

    // Each refuses the other's with 491 (§14.2).
    alice.receive_request(at(t0, 100), &from_bob);
    let to_bob = responses(&drain(&mut alice));
    assert_eq!(to_bob.iter().map(|r| r.status.as_u16()).collect::<Vec<_>>(), [491]);
    bob.receive_request(at(t0, 100), &from_alice);
    let to_alice = responses(&drain(&mut bob));
    assert_eq!(to_alice[0].status, StatusCode::REQUEST_PENDING);

    // Each takes its 491: the offer is rolled back, and the request goes again after
    // 2.1-4 s for Alice (who owns the Call-ID) and 0-2 s for Bob (§14.1), in 10 ms steps.
    alice.receive_response(at(t0, 200), &to_alice[0]).unwrap();
    bob.receive_response(at(t0, 200), &to_bob[0]).unwrap();
    assert!(drain(&mut alice).is_empty());
    assert!(matches!(alice.offer_answer(), OfferAnswer::Negotiated(_)));
    let alice_retry = alice.poll_timeout().unwrap().duration_since(at(t0, 200));
    let bob_retry = bob.poll_timeout().unwrap().duration_since(at(t0, 200));
    assert!((Duration::from_millis(2100)..=Duration::from_secs(4)).contains(&alice_retry), "{alice_retry:?}");
    assert!(bob_retry <= Duration::from_secs(2), "{bob_retry:?}");
    assert_eq!(alice_retry.as_millis() % 10, 0);
    assert_eq!(bob_retry.as_millis() % 10, 0);

    // Bob's retry goes first and succeeds; Alice's then too.
    bob.handle_timeout(at(t0, 200) + bob_retry);
    let retry = requests(&drain(&mut bob)).remove(0);
    assert_eq!(retry.method, Method::INVITE);
    assert_eq!(retry.headers.cseq().unwrap().unwrap().seq, 2, "a new transaction with the next CSeq");
    assert_eq!(sdp(&retry.body).media_direction(0), Direction::SendOnly);
    alice.receive_request(at(t0, 300) + bob_retry, &retry);
    let ok = responses(&drain(&mut alice)).remove(0);
    assert_eq!(ok.status, StatusCode::OK);
    bob.receive_response(at(t0, 310) + bob_retry, &ok).unwrap();
    let ack = requests(&drain(&mut bob)).remove(0);
    alice.receive_request(at(t0, 320) + bob_retry, &ack);

    alice.handle_timeout(at(t0, 200) + alice_retry);
    let retry = requests(&drain(&mut alice)).remove(0);
    assert_eq!(retry.method, Method::INVITE);
    assert_eq!(retry.headers.cseq().unwrap().unwrap().seq, 3);
}

#[test]
fn second_invite_before_the_final_response_gets_500_with_retry_after() {
    // §14.2: Bob has not answered the INVITE finally when a second INVITE with a higher
    // CSeq arrives in the early dialog.
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let first = invite(&mut alice_n, false);
    let mut bob = bob_session(&first);
    bob.ring(t0, StatusCode::RINGING).unwrap();
    drain(&mut bob);
    let text = String::from_utf8(first.to_bytes().to_vec()).unwrap();
    let second = text
        .replace("To: Bob <sip:bob@biloxi.example.com>", "To: Bob <sip:bob@biloxi.example.com>;tag=bob1")
        .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
        .replace("branch=z9hG4bKinvite1", "branch=z9hG4bKinvite2");
    let second = as_request(Message::parse(second.into_bytes()).unwrap());
    bob.receive_request(at(t0, 10), &second);
    let rs = responses(&drain(&mut bob));
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0].status, StatusCode::SERVER_INTERNAL_ERROR);
    let retry_after = rs[0].headers.get(&sip_message::HeaderName::RETRY_AFTER).expect("Retry-After");
    let seconds: u32 = std::str::from_utf8(retry_after.value()).unwrap().parse().unwrap();
    assert!(seconds <= 10);
    // The first INVITE is still Bob's to answer.
    bob.accept(at(t0, 20)).unwrap();
    assert_eq!(status_codes(&drain(&mut bob)), [200]);
}

#[test]
fn update_with_an_offer_is_answered_in_its_2xx() {
    let (t0, mut alice, mut bob) = established();
    let mut n = negotiator(1, 30002);
    n.create_offer();
    let offer = n.hold().unwrap();
    alice.update(offer).unwrap();
    let update = requests(&drain(&mut alice)).remove(0);
    assert_eq!(update.method, Method::UPDATE);
    assert_eq!(update.headers.contact().count(), 1, "UPDATE refreshes the target");
    bob.receive_request(at(t0, 10), &update);
    let out = drain(&mut bob);
    assert_eq!(status_codes(&out), [200]);
    let ok = responses(&out).remove(0);
    assert_eq!(sdp(&ok.body).media_direction(0), Direction::RecvOnly);
    assert_eq!(bob.poll_timeout(), None, "no retransmission of a 2xx to UPDATE");
    alice.receive_response(at(t0, 20), &ok).unwrap();
    assert_eq!(events(&drain(&mut alice)), [SessionEvent::Negotiated]);

    // An UPDATE while an offer of Bob's is out: 491 (RFC 3311 §5.2).
    bob.hold().unwrap();
    drain(&mut bob);
    let offer = negotiator(1, 30004).create_offer();
    alice.update(offer).unwrap();
    let update = requests(&drain(&mut alice)).remove(0);
    bob.receive_request(at(t0, 30), &update);
    let pending = responses(&drain(&mut bob)).remove(0);
    assert_eq!(pending.status, StatusCode::REQUEST_PENDING);
    // Alice sends the same offer again after her §14.1 wait, in a new UPDATE.
    alice.receive_response(at(t0, 40), &pending).unwrap();
    let retry_at = alice.poll_timeout().expect("a retry");
    alice.handle_timeout(retry_at);
    let retry = requests(&drain(&mut alice)).remove(0);
    assert_eq!(retry.method, Method::UPDATE);
    assert_eq!(retry.body, update.body, "the same offer");
    assert!(retry.headers.cseq().unwrap().unwrap().seq > update.headers.cseq().unwrap().unwrap().seq);
}

#[test]
fn bye_ends_the_session_on_both_sides() {
    let (t0, mut alice, mut bob) = established();
    alice.bye().unwrap();
    let out = drain(&mut alice);
    let bye = requests(&out).remove(0);
    assert_eq!(bye.method, Method::BYE);
    assert_eq!(bye.headers.cseq().unwrap().unwrap().seq, 2);
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::ByeSent)]);
    assert!(alice.is_ended());
    assert!(alice.bye().is_err(), "nothing is sent after the end");

    bob.receive_request(at(t0, 10), &bye);
    let out = drain(&mut bob);
    assert_eq!(status_codes(&out), [200]);
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::ByeReceived)]);
    assert_eq!(bob.dialog().state(), DialogState::Terminated);
    // A BYE retransmitted after the end: 481.
    bob.receive_request(at(t0, 20), &bye);
    assert_eq!(status_codes(&drain(&mut bob)), [481]);
}

#[test]
fn an_unanswered_invite_gets_its_provisional_response_again_every_minute() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false);
    let mut bob = bob_session(&invite);
    bob.ring(t0, StatusCode::RINGING).unwrap();
    assert_eq!(status_codes(&drain(&mut bob)), [180]);
    // §13.3.1.1: while unanswered, a non-100 provisional response at least every minute.
    for minute in 1..=2 {
        let due = at(t0, minute * 60_000);
        assert_eq!(bob.poll_timeout(), Some(due));
        bob.handle_timeout(due);
        let out = drain(&mut bob);
        assert_eq!(status_codes(&out), [180], "minute {minute}");
        assert_eq!(responses(&out)[0].headers.to().unwrap().unwrap().tag(), Some("bob1"));
    }
    // Answered: the 2xx goes (again until its ACK, then BYE), and no 180 after it.
    bob.accept(at(t0, 130_000)).unwrap();
    let mut after = drain(&mut bob);
    while let Some(t) = bob.poll_timeout().filter(|t| *t <= at(t0, 400_000)) {
        bob.handle_timeout(t);
        after.extend(drain(&mut bob));
    }
    assert!(!status_codes(&after).contains(&180), "{:?}", status_codes(&after));
    assert_eq!(status_codes(&after)[0], 200);
    assert_eq!(bob.poll_timeout(), None, "nothing more to send");
}

#[test]
fn cancel_before_the_final_response() {
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false);
    let mut bob = bob_session(&invite);
    bob.ring(Instant::now(), StatusCode::RINGING).unwrap();
    drain(&mut bob);
    let text = String::from_utf8(invite.to_bytes().to_vec()).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    let cancel = format!("{head}\r\n\r\n")
        .replace("INVITE sip:", "CANCEL sip:")
        .replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL")
        .replace("Content-Type: application/sdp\r\n", "");
    let cancel = cancel.split("Content-Length").next().unwrap().to_string() + "Content-Length: 0\r\n\r\n";
    let cancel = as_request(Message::parse(cancel.into_bytes()).unwrap());
    bob.receive_cancel(&cancel);
    let out = drain(&mut bob);
    let rs = responses(&out);
    assert_eq!(
        rs.iter()
            .map(|r| (r.status.as_u16(), r.headers.cseq().unwrap().unwrap().method.to_string()))
            .collect::<Vec<_>>(),
        [(200, "CANCEL".to_string()), (487, "INVITE".to_string())]
    );
    assert_eq!(rs[1].headers.to().unwrap().unwrap().tag(), Some("bob1"));
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::Cancelled)]);
    assert!(bob.is_ended());
    assert!(bob.accept(Instant::now()).is_err(), "nothing left to accept");
}

#[test]
fn rejecting_the_invite_or_an_unanswerable_offer() {
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, false);
    let mut bob = bob_session(&invite);
    bob.reject(StatusCode::BUSY_HERE).unwrap();
    let out = drain(&mut bob);
    assert_eq!(status_codes(&out), [486]);
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::Rejected(StatusCode::BUSY_HERE))]);
    assert!(bob.is_ended());

    // An offer with only video, which Bob cannot take: 488.
    let video_only = {
        let caps = Capabilities::new(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            vec![MediaCapability::video(30002, vec![Codec::new("H264", 90000, 96)])],
        );
        Negotiator::new(caps, 7).create_offer()
    };
    let mut invite = invite.clone();
    invite.set_body(Some(MediaType::application_sdp()), video_only.to_bytes());
    let mut bob = bob_session(&invite);
    bob.accept(Instant::now()).unwrap();
    let out = drain(&mut bob);
    assert_eq!(status_codes(&out), [488]);
    assert!(matches!(events(&out)[0], SessionEvent::OfferFailed(_)));
    assert_eq!(events(&out)[1], SessionEvent::Ended(EndReason::Rejected(StatusCode::NOT_ACCEPTABLE_HERE)));
}

#[test]
fn other_requests_go_to_the_application() {
    let (t0, mut alice, mut bob) = established();
    alice
        .request(Method::INFO, |r| {
            r.set_body(
                Some(MediaType::new("application", "dtmf-relay").unwrap()),
                "Signal=5\r\nDuration=160\r\n".into(),
            )
        })
        .unwrap();
    let info = requests(&drain(&mut alice)).remove(0);
    assert_eq!(info.headers.cseq().unwrap().unwrap().seq, 2);
    bob.receive_request(at(t0, 10), &info);
    let out = drain(&mut bob);
    let [SessionEvent::Request(got)] = &events(&out)[..] else { panic!("{out:?}") };
    assert_eq!(got.body, info.body);
    bob.send_response(Response::from_request(got, StatusCode::OK));
    assert_eq!(status_codes(&drain(&mut bob)), [200]);
    // An INFO answered 481 means the dialog is gone (§12.2.1.2).
    let gone = Response::from_request(&info, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
    alice.receive_response(at(t0, 20), &gone).unwrap();
    assert_eq!(
        events(&drain(&mut alice)),
        [SessionEvent::Ended(EndReason::DialogGone(StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST))]
    );
}

mod interleavings {
    //! Two sessions wired back to back, driven by random actions, message loss and time
    //! steps: each side's CSeq only grows (ACK repeats its INVITE's), every request goes
    //! to the peer's Contact, nothing but an ACK is sent after a side's session ended, and
    //! once both sides stop acting and every message is delivered, no timer is left past
    //! 64·T1 plus the longest glare wait.

    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Act {
        /// Side 0 (Alice) or 1 (Bob) does action n.
        Do(usize, u8),
        /// Deliver (true) or lose (false) the oldest message in flight.
        Deliver(bool),
        /// Time passes (ms).
        Wait(u64),
    }

    fn act() -> impl Strategy<Value = Act> {
        prop_oneof![
            2 => (0..2usize, 0u8..5).prop_map(|(s, n)| Act::Do(s, n)),
            4 => Just(Act::Deliver(true)),
            1 => Just(Act::Deliver(false)),
            2 => (0u64..5000).prop_map(Act::Wait),
        ]
    }

    struct Side {
        session: Session,
        last_seq: u32,
        ended: bool,
    }

    /// Takes a side's outputs: checks them and puts what it sends in flight to the other.
    fn collect(side: &mut Side, from: usize, flight: &mut std::collections::VecDeque<(usize, Message)>) {
        while let Some(out) = side.session.poll_output() {
            match out {
                Output::Request(r) => {
                    let r = as_request(wire(r));
                    let seq = r.headers.cseq().unwrap().unwrap().seq;
                    if r.method == Method::ACK {
                        assert!(seq <= side.last_seq);
                    } else {
                        assert!(!side.ended, "{} after the end", r.method);
                        assert!(seq > side.last_seq, "CSeq {seq} after {}", side.last_seq);
                        side.last_seq = seq;
                    }
                    let peer = if from == 0 { "sip:bob@192.0.2.2" } else { "sip:alice@192.0.2.1" };
                    assert_eq!(r.uri.to_string(), peer);
                    flight.push_back((1 - from, Message::Request(r)));
                }
                Output::Response(r) => flight.push_back((1 - from, wire(r))),
                Output::Event(SessionEvent::Ended(_)) => side.ended = true,
                Output::Event(SessionEvent::Request(r)) => {
                    side.session.send_response(Response::from_request(&r, StatusCode::OK));
                }
                Output::Event(_) => {}
            }
        }
    }

    proptest! {
        #[test]
        fn sessions_stay_ordered_and_settle(acts in prop::collection::vec(act(), 0..50)) {
            let (t0, alice, bob) = established();
            let mut sides = [
                Side { session: alice, last_seq: 1, ended: false },
                Side { session: bob, last_seq: 0, ended: false },
            ];
            let mut flight = std::collections::VecDeque::new();
            let mut now = t0;
            for a in acts {
                match a {
                    Act::Do(s, n) => {
                        let session = &mut sides[s].session;
                        let _ = match n {
                            0 => session.hold(),
                            1 => session.resume(),
                            2 => session.update(negotiator(9, 31000).create_offer()),
                            3 => session.request(Method::INFO, |_| {}),
                            _ => session.bye(),
                        };
                        collect(&mut sides[s], s, &mut flight);
                    }
                    Act::Deliver(keep) => {
                        let Some((to, m)) = flight.pop_front() else { continue };
                        if !keep {
                            // What the sender's transaction layer would report: a request
                            // or its final response lost for good times out, as a 408
                            // (§8.1.3.1). A lost 2xx to INVITE or ACK is sent again by
                            // the sessions themselves; a lost 1xx does not matter.
                            let timed_out = match &m {
                                Message::Request(r) if r.method != Method::ACK => Some(r.clone()),
                                _ => None,
                            };
                            let lost_final = match &m {
                                Message::Response(r)
                                    if r.status.is_final()
                                        && !(r.status.is_success()
                                            && r.headers.cseq().unwrap().unwrap().method == Method::INVITE) =>
                                {
                                    Some(r.clone())
                                }
                                _ => None,
                            };
                            if let Some(r) = timed_out {
                                flight.push_back((1 - to, Message::Response(Response::from_request(&r, StatusCode::REQUEST_TIMEOUT))));
                            } else if let Some(mut r) = lost_final {
                                // The requester (`1 - to` sent the response to `to`) gets a
                                // 408 in its place.
                                r.status = StatusCode::REQUEST_TIMEOUT;
                                flight.push_back((to, Message::Response(r)));
                            }
                            continue;
                        }
                        {
                            let session = &mut sides[to].session;
                            match m {
                                Message::Request(r) => session.receive_request(now, &r),
                                Message::Response(r) => {
                                    let _ = session.receive_response(now, &r);
                                }
                            }
                            collect(&mut sides[to], to, &mut flight);
                        }
                    }
                    Act::Wait(ms) => {
                        now += Duration::from_millis(ms);
                        for (i, side) in sides.iter_mut().enumerate() {
                            side.session.handle_timeout(now);
                            collect(side, i, &mut flight);
                        }
                    }
                }
            }
            // Quiet: deliver everything, let time run; the timers run out.
            for _ in 0..200 {
                while let Some((to, m)) = flight.pop_front() {
                    let session = &mut sides[to].session;
                    match m {
                        Message::Request(r) => session.receive_request(now, &r),
                        Message::Response(r) => {
                            let _ = session.receive_response(now, &r);
                        }
                    }
                    collect(&mut sides[to], to, &mut flight);
                }
                let next = sides.iter().filter_map(|s| s.session.poll_timeout()).min();
                let Some(next) = next else { break };
                prop_assert!(next.duration_since(now) <= Duration::from_secs(36), "a timer {:?} away", next - now);
                now = next;
                for (i, side) in sides.iter_mut().enumerate() {
                    side.session.handle_timeout(now);
                    collect(side, i, &mut flight);
                }
            }
            prop_assert!(flight.is_empty());
            prop_assert!(sides.iter().all(|s| s.session.poll_timeout().is_none()), "timers left");
        }
    }
}

#[test]
fn a_redirect_names_the_targets_in_contact_and_ends_the_session() {
    let mut alice = negotiator(1, 30000);
    let invite = invite(&mut alice, false);
    let mut bob = bob_session(&invite);
    assert!(bob.redirect(StatusCode::BUSY_HERE, &["sip:carol@192.0.2.3".parse().unwrap()]).is_err(), "only 3xx");
    assert!(bob.redirect(StatusCode::MOVED_TEMPORARILY, &[]).is_err(), "somewhere to go");
    let targets: Vec<Uri> = vec!["sip:carol@192.0.2.3".parse().unwrap(), "sip:carol@192.0.2.4".parse().unwrap()];
    bob.redirect(StatusCode::MOVED_TEMPORARILY, &targets).unwrap();
    let out = drain(&mut bob);
    let r302 = responses(&out).remove(0);
    assert_eq!(r302.status, StatusCode::MOVED_TEMPORARILY);
    let contacts: Vec<String> =
        r302.headers.contact().map(|c| c.unwrap().address().unwrap().uri().to_string()).collect();
    assert_eq!(contacts, ["sip:carol@192.0.2.3", "sip:carol@192.0.2.4"], "the targets, not Bob's own Contact");
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::Rejected(StatusCode::MOVED_TEMPORARILY))]);
    assert!(bob.is_ended());
}
