//! Session timers (RFC 4028) on virtual time: Session-Expires and Min-SE negotiation, 422,
//! the refresher's re-INVITE at half the interval, and the BYE when no refresh comes.

use std::time::{Duration, Instant};

mod common;
use common::*;

use sip_dialog::{Dialog, EndReason, InviteSession, SessionConfig, SessionEvent, session_timer_headers};
use sip_message::header::{MediaType, SessionExpires};
use sip_message::{HeaderName, Message, Method, Request, Response, StatusCode, Uri};
use sip_sdp::{Negotiator, SessionDescription};

fn value(headers: &sip_message::Headers, name: HeaderName) -> Option<String> {
    headers.get(&name).map(|h| String::from_utf8_lossy(h.value()).into_owned())
}

/// Alice's INVITE with an offer; `timer` adds the RFC 4028 headers asking for `interval`.
fn invite(alice: &mut Negotiator, timer: Option<(u32, bool)>) -> Request {
    let text = "INVITE sip:bob@biloxi.example.com SIP/2.0\r
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtimer1\r
Max-Forwards: 70\r
From: Alice <sip:alice@atlanta.example.com>;tag=alice1\r
To: Bob <sip:bob@biloxi.example.com>\r
Call-ID: timer-test@atlanta.example.com\r
CSeq: 1 INVITE\r
Contact: <sip:alice@192.0.2.1>\r
Content-Length: 0\r
\r
";
    let Ok(Message::Request(mut r)) = Message::parse(text.as_bytes().to_vec()) else { unreachable!() };
    if let Some((interval, refresh)) = timer {
        for h in session_timer_headers(interval, 90, refresh) {
            r.headers.push(h);
        }
    }
    r.set_body(Some(MediaType::application_sdp()), alice.create_offer().to_bytes());
    match wire(r) {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn bob(invite: &Request, config: SessionConfig) -> Session {
    let contact: Uri = "sip:bob@192.0.2.2".parse().expect("uri");
    let dialog = Dialog::new_uas_early(invite, "bob1", &contact).expect("dialog");
    InviteSession::uas(dialog, invite.clone(), negotiator(2, 40000), config, Counter::default()).expect("session")
}

fn alice(now: Instant, invite: &Request, ok: &Response, n: Negotiator) -> Session {
    let dialog = Dialog::new_uac(invite, ok).expect("dialog");
    InviteSession::uac(now, dialog, invite, ok, n, SessionConfig::default(), Counter(70)).expect("session")
}

fn secs(t0: Instant, s: u64) -> Instant {
    t0 + Duration::from_secs(s)
}

/// A call set up at `t0` with Alice asking for `asked`; returns both sessions and Bob's 200.
fn call(t0: Instant, asked: Option<(u32, bool)>, bob_config: SessionConfig) -> (Session, Session, Response) {
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, asked);
    let mut bob = bob(&invite, bob_config);
    bob.accept(t0).unwrap();
    let ok = responses(&drain(&mut bob)).remove(0);
    let mut alice = alice(t0, &invite, &ok, alice_n);
    let ack = requests(&drain(&mut alice)).remove(0);
    bob.receive_request(t0, &ack);
    drain(&mut bob);
    (alice, bob, ok)
}

#[test]
fn uac_asks_and_refreshes_at_half_the_interval() {
    let t0 = Instant::now();
    let (mut alice, mut bob, ok) = call(t0, Some((1800, false)), SessionConfig::default());
    // Bob grants 1800 s with Alice (who supports timers) as refresher: Require: timer.
    assert_eq!(value(&ok.headers, HeaderName::SESSION_EXPIRES).as_deref(), Some("1800;refresher=uac"));
    assert_eq!(value(&ok.headers, HeaderName::REQUIRE).as_deref(), Some("timer"));
    // Alice refreshes at 900 s; Bob would end the session at 1800 - 32 = 1768 s.
    assert_eq!(alice.poll_timeout(), Some(secs(t0, 900)));
    assert_eq!(bob.poll_timeout(), Some(secs(t0, 1768)));

    alice.handle_timeout(secs(t0, 900));
    let refresh = requests(&drain(&mut alice)).remove(0);
    assert_eq!(refresh.method, Method::INVITE);
    assert_eq!(refresh.headers.cseq().unwrap().unwrap().seq, 2);
    assert_eq!(value(&refresh.headers, HeaderName::SESSION_EXPIRES).as_deref(), Some("1800;refresher=uac"));
    assert_eq!(value(&refresh.headers, HeaderName::MIN_SE).as_deref(), Some("90"));
    assert!(refresh.headers.supports("timer"));
    let first_offer = SessionDescription::parse(bytes::Bytes::copy_from_slice(&refresh.body)).unwrap();
    assert_eq!(first_offer.media[0].port, 30000, "the description in force, offered again");

    bob.receive_request(secs(t0, 900), &refresh);
    let ok = responses(&drain(&mut bob)).remove(0);
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(value(&ok.headers, HeaderName::SESSION_EXPIRES).as_deref(), Some("1800;refresher=uac"));
    alice.receive_response(secs(t0, 900), &ok).unwrap();
    let ack = requests(&drain(&mut alice)).remove(0);
    bob.receive_request(secs(t0, 900), &ack);
    // Both timers start again from the refresh.
    assert_eq!(alice.poll_timeout(), Some(secs(t0, 1800)));
    assert_eq!(bob.poll_timeout(), Some(secs(t0, 900 + 1768)));
}

#[test]
fn session_expires_without_refresh_and_the_non_refresher_says_bye() {
    let t0 = Instant::now();
    let (_alice, mut bob, _) = call(t0, Some((1800, false)), SessionConfig::default());
    // Alice's refresh never reaches Bob.
    bob.handle_timeout(secs(t0, 1767));
    assert!(drain(&mut bob).is_empty());
    bob.handle_timeout(secs(t0, 1768));
    let out = drain(&mut bob);
    let bye = requests(&out).remove(0);
    assert_eq!(bye.method, Method::BYE);
    assert_eq!(bye.uri.to_string(), "sip:alice@192.0.2.1");
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::SessionExpired)]);
    assert!(bob.is_ended());
}

#[test]
fn refresher_whose_refresh_goes_unanswered_ends_the_session_too() {
    let t0 = Instant::now();
    let (mut alice, _bob, _) = call(t0, Some((90, false)), SessionConfig::default());
    assert_eq!(alice.poll_timeout(), Some(t0 + Duration::from_secs(45)));
    alice.handle_timeout(secs(t0, 45));
    assert_eq!(requests(&drain(&mut alice))[0].method, Method::INVITE);
    // No answer: at 90 - 30 = 60 s after the last refresh the session is over.
    assert_eq!(alice.poll_timeout(), Some(secs(t0, 60)));
    alice.handle_timeout(secs(t0, 60));
    let out = drain(&mut alice);
    assert_eq!(requests(&out)[0].method, Method::BYE);
    assert_eq!(events(&out), [SessionEvent::Ended(EndReason::SessionExpired)]);
}

#[test]
fn interval_below_min_se_gets_422() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, Some((60, false)));
    let mut bob = bob(&invite, SessionConfig::default());
    bob.accept(t0).unwrap();
    let out = drain(&mut bob);
    let r = responses(&out).remove(0);
    assert_eq!(r.status, StatusCode::SESSION_INTERVAL_TOO_SMALL);
    assert_eq!(value(&r.headers, HeaderName::MIN_SE).as_deref(), Some("90"));
    assert_eq!(
        events(&out).last(),
        Some(&SessionEvent::Ended(EndReason::Rejected(StatusCode::SESSION_INTERVAL_TOO_SMALL)))
    );
}

#[test]
fn uas_refreshes_for_a_uac_without_timers() {
    let t0 = Instant::now();
    let (mut alice, mut bob, ok) = call(t0, None, SessionConfig::default());
    // Alice's INVITE says nothing of timers: Bob uses his own interval and refreshes.
    assert_eq!(value(&ok.headers, HeaderName::SESSION_EXPIRES).as_deref(), Some("1800;refresher=uas"));
    assert!(value(&ok.headers, HeaderName::REQUIRE).is_none());
    assert_eq!(bob.poll_timeout(), Some(secs(t0, 900)));
    bob.handle_timeout(secs(t0, 900));
    let refresh = requests(&drain(&mut bob)).remove(0);
    assert_eq!(refresh.method, Method::INVITE);
    assert_eq!(refresh.uri.to_string(), "sip:alice@192.0.2.1");
    assert_eq!(value(&refresh.headers, HeaderName::SESSION_EXPIRES).as_deref(), Some("1800;refresher=uac"));
    alice.receive_request(secs(t0, 900), &refresh);
    let ok = responses(&drain(&mut alice)).remove(0);
    assert_eq!(ok.status, StatusCode::OK);
    bob.receive_response(secs(t0, 901), &ok).unwrap();
    assert_eq!(bob.poll_timeout(), Some(secs(t0, 901 + 900)));
}

#[test]
fn refresh_with_too_small_an_interval_is_sent_again_after_422() {
    let t0 = Instant::now();
    let (mut alice, _bob, _) = call(t0, Some((90, true)), SessionConfig::default());
    alice.handle_timeout(secs(t0, 45));
    let refresh = requests(&drain(&mut alice)).remove(0);
    // A refresh asks for the interval in force; a peer's 422 with Min-SE raises it.
    assert_eq!(value(&refresh.headers, HeaderName::SESSION_EXPIRES).as_deref(), Some("90;refresher=uac"));
    let mut too_small = Response::from_request(&refresh, StatusCode::SESSION_INTERVAL_TOO_SMALL);
    too_small.headers.push(sip_message::Header::new(HeaderName::MIN_SE, "3600").unwrap());
    alice.receive_response(secs(t0, 46), &too_small).unwrap();
    let again = requests(&drain(&mut alice)).remove(0);
    assert_eq!(again.method, Method::INVITE);
    assert!(again.headers.cseq().unwrap().unwrap().seq > refresh.headers.cseq().unwrap().unwrap().seq);
    let se = again.headers.typed::<SessionExpires>().unwrap().unwrap();
    assert_eq!(se.interval, 3600);
    assert_eq!(again.body, refresh.body, "the same offer");
}

#[test]
fn refresh_by_update_without_a_description() {
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, Some((600, true)));
    let mut bob = bob(&invite, SessionConfig::default());
    bob.accept(t0).unwrap();
    let ok = responses(&drain(&mut bob)).remove(0);
    let dialog = Dialog::new_uac(&invite, &ok).unwrap();
    let config = SessionConfig { refresh_with_update: true, ..SessionConfig::default() };
    let mut alice = InviteSession::uac(t0, dialog, &invite, &ok, alice_n, config, Counter(5)).unwrap();
    let ack = requests(&drain(&mut alice)).remove(0);
    bob.receive_request(t0, &ack);
    drain(&mut bob);

    assert_eq!(alice.poll_timeout(), Some(secs(t0, 300)));
    alice.handle_timeout(secs(t0, 300));
    let update = requests(&drain(&mut alice)).remove(0);
    assert_eq!(update.method, Method::UPDATE);
    assert!(update.body.is_empty());
    assert_eq!(value(&update.headers, HeaderName::SESSION_EXPIRES).as_deref(), Some("600;refresher=uac"));
    bob.receive_request(secs(t0, 300), &update);
    let ok = responses(&drain(&mut bob)).remove(0);
    assert_eq!(ok.status, StatusCode::OK);
    assert!(ok.body.is_empty());
    assert_eq!(value(&ok.headers, HeaderName::SESSION_EXPIRES).as_deref(), Some("600;refresher=uac"));
    assert_eq!(bob.poll_timeout(), Some(secs(t0, 300 + 568)));
    alice.receive_response(secs(t0, 301), &ok).unwrap();
    assert_eq!(alice.poll_timeout(), Some(secs(t0, 301 + 300)));
}

#[test]
fn a_granted_interval_below_min_se_is_raised() {
    // A peer's 2xx that grants 10 s (below this side's Min-SE of 90) does not end the
    // session at once: the timer runs on 90 s.
    let t0 = Instant::now();
    let mut alice_n = negotiator(1, 30000);
    let invite = invite(&mut alice_n, Some((1800, true)));
    let mut bob = bob(&invite, SessionConfig::default());
    bob.accept(t0).unwrap();
    let mut ok = responses(&drain(&mut bob)).remove(0);
    let text =
        String::from_utf8(ok.to_bytes().to_vec()).unwrap().replace("Session-Expires: 1800", "Session-Expires: 10");
    let Ok(Message::Response(bad)) = Message::parse(text.into_bytes()) else { panic!() };
    ok = bad;
    let alice = alice(t0, &invite, &ok, alice_n);
    assert_eq!(alice.poll_timeout(), Some(secs(t0, 45)));
}
