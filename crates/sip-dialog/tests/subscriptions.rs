//! Subscriptions (RFC 6665) and the REFER of a transfer (RFC 3515) on virtual time: the
//! messages each side produces and when.

use std::time::{Duration, Instant};

mod common;
use common::{Counter, Session, negotiator, wire};

use bytes::Bytes;
use sip_dialog::{
    Dialog, InviteSession, Output, SessionConfig, SessionEvent, Subscription, SubscriptionConfig, SubscriptionEvent,
    SubscriptionState,
};
use sip_message::header::MediaType;
use sip_message::{HeaderName, Message, Method, Request, Response, StatusCode, Uri};

type Sub = Subscription<Counter>;

fn outputs(s: &mut Sub) -> (Vec<Request>, Vec<Response>) {
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    while let Some(o) = s.poll_output() {
        match o {
            Output::Request(r) => match wire(r) {
                Message::Request(r) => requests.push(r),
                Message::Response(_) => unreachable!(),
            },
            Output::Response(r) => match wire(r) {
                Message::Response(r) => responses.push(r),
                Message::Request(_) => unreachable!(),
            },
            Output::Event(_) => {}
        }
    }
    (requests, responses)
}

fn sub_events(s: &mut Sub) -> Vec<SubscriptionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn value(headers: &sip_message::Headers, name: HeaderName) -> Option<String> {
    headers.get(&name).map(|h| String::from_utf8_lossy(h.value()).into_owned())
}

fn subscribe(expires: u32) -> Request {
    let text = format!(
        "SUBSCRIBE sip:bob@biloxi.example.com SIP/2.0\r
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKsub1\r
Max-Forwards: 70\r
From: Alice <sip:alice@atlanta.example.com>;tag=alice1\r
To: Bob <sip:bob@biloxi.example.com>\r
Call-ID: subscribe-test@atlanta.example.com\r
CSeq: 1 SUBSCRIBE\r
Contact: <sip:alice@192.0.2.1>\r
Event: presence\r
Expires: {expires}\r
Accept: application/pidf+xml\r
Content-Length: 0\r
\r
"
    );
    match Message::parse(text.into_bytes()) {
        Ok(Message::Request(r)) => r,
        _ => unreachable!(),
    }
}

fn pidf(status: &str) -> Option<(MediaType, Bytes)> {
    Some((MediaType::new("application", "pidf+xml").unwrap(), Bytes::from(format!("<presence>{status}</presence>"))))
}

/// Bob the notifier and Alice the subscriber, after the 200 and the first NOTIFY.
fn subscribed(t0: Instant, expires: u32) -> (Sub, Sub) {
    let request = subscribe(expires);
    let contact: Uri = "sip:bob@192.0.2.2".parse().unwrap();
    let dialog = Dialog::new_uas_early(&request, "bob1", &contact).unwrap();
    let mut bob =
        Subscription::notifier(t0, dialog, &request, true, pidf("open"), SubscriptionConfig::default(), Counter(0))
            .unwrap();
    let (notifies, oks) = outputs(&mut bob);
    let ok = &oks[0];
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(value(&ok.headers, HeaderName::EXPIRES), Some(expires.to_string()));
    assert_eq!(ok.headers.to().unwrap().unwrap().tag(), Some("bob1"));
    let notify = &notifies[0];
    assert_eq!(notify.method, Method::NOTIFY);
    assert_eq!(notify.uri.to_string(), "sip:alice@192.0.2.1");
    assert_eq!(value(&notify.headers, HeaderName::EVENT).as_deref(), Some("presence"));
    assert_eq!(value(&notify.headers, HeaderName::SUBSCRIPTION_STATE), Some(format!("active;expires={expires}")));
    assert_eq!(notify.body, Bytes::from("<presence>open</presence>"));

    let dialog = Dialog::new_uac(&request, ok).unwrap();
    let mut alice =
        Subscription::subscriber(t0, dialog, &request, ok, SubscriptionConfig::default(), Counter(100)).unwrap();
    assert_eq!(alice.state(), &SubscriptionState::Pending);
    alice.receive_request(t0, notify);
    let (_, rs) = outputs(&mut alice);
    assert_eq!(rs[0].status, StatusCode::OK);
    assert_eq!(
        sub_events(&mut alice),
        [SubscriptionEvent::Notified { state: SubscriptionState::Active, body: pidf("open") }]
    );
    assert_eq!(alice.state(), &SubscriptionState::Active);
    (bob, alice)
}

#[test]
fn subscribe_notify_and_refresh() {
    let t0 = Instant::now();
    let (mut bob, mut alice) = subscribed(t0, 600);
    // A state change.
    bob.notify(t0 + Duration::from_secs(10), pidf("closed")).unwrap();
    let (n, _) = outputs(&mut bob);
    assert_eq!(value(&n[0].headers, HeaderName::SUBSCRIPTION_STATE).as_deref(), Some("active;expires=590"));
    alice.receive_request(t0 + Duration::from_secs(10), &n[0]);
    outputs(&mut alice);
    assert!(matches!(
        &sub_events(&mut alice)[..],
        [SubscriptionEvent::Notified { state: SubscriptionState::Active, .. }]
    ));

    // Alice refreshes a minute before the expiry the last NOTIFY gave (590 s at 10 s).
    assert_eq!(alice.poll_timeout(), Some(t0 + Duration::from_secs(540)));
    alice.handle_timeout(t0 + Duration::from_secs(540));
    let (refresh, _) = outputs(&mut alice);
    let refresh = &refresh[0];
    assert_eq!(refresh.method, Method::SUBSCRIBE);
    assert_eq!(value(&refresh.headers, HeaderName::EXPIRES).as_deref(), Some("3600"));
    assert_eq!(refresh.uri.to_string(), "sip:bob@192.0.2.2");
    assert_eq!(refresh.headers.to().unwrap().unwrap().tag(), Some("bob1"));

    bob.receive_request(t0 + Duration::from_secs(540), refresh);
    let (n, rs) = outputs(&mut bob);
    assert_eq!(rs[0].status, StatusCode::OK);
    assert_eq!(value(&rs[0].headers, HeaderName::EXPIRES).as_deref(), Some("3600"));
    assert_eq!(value(&n[0].headers, HeaderName::SUBSCRIPTION_STATE).as_deref(), Some("active;expires=3600"));
    alice.receive_response(t0 + Duration::from_secs(540), &rs[0]);
    assert_eq!(alice.poll_timeout(), Some(t0 + Duration::from_secs(540 + 3540)));
    assert_eq!(bob.poll_timeout(), Some(t0 + Duration::from_secs(540 + 3600)));
}

#[test]
fn unsubscribe_ends_with_a_terminated_notify() {
    let t0 = Instant::now();
    let (mut bob, mut alice) = subscribed(t0, 600);
    alice.unsubscribe().unwrap();
    let (r, _) = outputs(&mut alice);
    assert_eq!(value(&r[0].headers, HeaderName::EXPIRES).as_deref(), Some("0"));
    bob.receive_request(t0 + Duration::from_secs(5), &r[0]);
    let (n, rs) = outputs(&mut bob);
    assert_eq!(rs[0].status, StatusCode::OK);
    assert_eq!(value(&n[0].headers, HeaderName::SUBSCRIPTION_STATE).as_deref(), Some("terminated;reason=timeout"));
    assert!(bob.is_terminated());
    assert_eq!(sub_events(&mut bob), [SubscriptionEvent::Terminated(Some("timeout".into()))]);
    alice.receive_request(t0 + Duration::from_secs(5), &n[0]);
    outputs(&mut alice);
    assert!(alice.is_terminated());
    assert_eq!(sub_events(&mut alice).last(), Some(&SubscriptionEvent::Terminated(Some("timeout".into()))));
    assert_eq!(alice.poll_timeout(), None);
}

#[test]
fn an_unsubscribe_answered_first_waits_timer_n_for_the_final_notify() {
    let t0 = Instant::now();
    let (mut bob, mut alice) = subscribed(t0, 600);
    alice.unsubscribe().unwrap();
    let (r, _) = outputs(&mut alice);
    bob.receive_request(t0, &r[0]);
    let (n, rs) = outputs(&mut bob);
    // The 200 (Expires 0) comes first, and the timers run before the NOTIFY comes.
    alice.receive_response(t0, &rs[0]);
    let due = alice.poll_timeout().unwrap();
    assert_eq!(due, t0 + Duration::from_secs(32), "64·T1 for the final NOTIFY");
    alice.handle_timeout(t0 + Duration::from_secs(1));
    assert!(!alice.is_terminated());
    alice.receive_request(t0 + Duration::from_secs(1), &n[0]);
    let (_, oks) = outputs(&mut alice);
    assert_eq!(oks[0].status, StatusCode::OK, "the final NOTIFY is taken, not 481");
    assert_eq!(sub_events(&mut alice).last(), Some(&SubscriptionEvent::Terminated(Some("timeout".into()))));

    // No final NOTIFY at all: the subscription ends when Timer N fires.
    let (mut bob, mut alice) = subscribed(t0, 600);
    alice.unsubscribe().unwrap();
    let (r, _) = outputs(&mut alice);
    bob.receive_request(t0, &r[0]);
    let (_, rs) = outputs(&mut bob);
    alice.receive_response(t0, &rs[0]);
    alice.handle_timeout(t0 + Duration::from_secs(32));
    assert_eq!(sub_events(&mut alice).last(), Some(&SubscriptionEvent::Terminated(Some("no NOTIFY".into()))));
}

#[test]
fn notifier_ends_an_expired_subscription() {
    let t0 = Instant::now();
    let (mut bob, _alice) = subscribed(t0, 600);
    assert_eq!(bob.poll_timeout(), Some(t0 + Duration::from_secs(600)));
    bob.handle_timeout(t0 + Duration::from_secs(600));
    let (n, _) = outputs(&mut bob);
    assert_eq!(value(&n[0].headers, HeaderName::SUBSCRIPTION_STATE).as_deref(), Some("terminated;reason=timeout"));
    assert!(bob.is_terminated());
    assert!(bob.notify(t0 + Duration::from_secs(601), None).is_err());
}

#[test]
fn subscriber_gives_up_without_a_notify() {
    let t0 = Instant::now();
    let request = subscribe(600);
    let mut ok = Response::from_request(&request, StatusCode::OK).with_to_tag("bob1").unwrap();
    ok.headers.push(sip_message::Header::new(HeaderName::CONTACT, "<sip:bob@192.0.2.2>").unwrap());
    ok.headers.push(sip_message::Header::new(HeaderName::EXPIRES, "600").unwrap());
    let dialog = Dialog::new_uac(&request, &ok).unwrap();
    let mut alice =
        Subscription::subscriber(t0, dialog, &request, &ok, SubscriptionConfig::default(), Counter(1)).unwrap();
    // Timer N = 64·T1 = 32 s.
    assert_eq!(alice.poll_timeout(), Some(t0 + Duration::from_secs(32)));
    alice.handle_timeout(t0 + Duration::from_secs(32));
    assert!(alice.is_terminated());
    assert_eq!(sub_events(&mut alice), [SubscriptionEvent::Terminated(Some("no NOTIFY".into()))]);
}

#[test]
fn refusals() {
    let t0 = Instant::now();
    // Too short: 423 with Min-Expires.
    let request = subscribe(10);
    let contact: Uri = "sip:bob@192.0.2.2".parse().unwrap();
    let dialog = Dialog::new_uas_early(&request, "bob1", &contact).unwrap();
    let r = Subscription::notifier(t0, dialog, &request, true, None, SubscriptionConfig::default(), Counter(0))
        .unwrap_err();
    assert_eq!(r.status, StatusCode::INTERVAL_TOO_BRIEF);
    assert_eq!(value(&r.headers, HeaderName::MIN_EXPIRES).as_deref(), Some("60"));

    // A NOTIFY of another package: 489.
    let (mut bob, mut alice) = subscribed(t0, 600);
    bob.notify(t0, None).unwrap();
    let (n, _) = outputs(&mut bob);
    let text = String::from_utf8(n[0].to_bytes().to_vec()).unwrap().replace("Event: presence", "Event: dialog");
    let Ok(Message::Request(other)) = Message::parse(text.into_bytes()) else { panic!() };
    alice.receive_request(t0, &other);
    let (_, rs) = outputs(&mut alice);
    assert_eq!(rs[0].status, StatusCode::BAD_EVENT);
    // A fetch (Expires 0): one NOTIFY, terminated.
    let request = subscribe(0);
    let dialog = Dialog::new_uas_early(&request, "bob2", &contact).unwrap();
    let mut fetch =
        Subscription::notifier(t0, dialog, &request, true, pidf("open"), SubscriptionConfig::default(), Counter(0))
            .unwrap();
    let (n, _) = outputs(&mut fetch);
    assert_eq!(value(&n[0].headers, HeaderName::SUBSCRIPTION_STATE).as_deref(), Some("terminated;reason=timeout"));
    assert!(fetch.is_terminated());
}

#[test]
fn a_refused_refresh_ends_the_subscription_only_for_the_codes_rfc_6665_names() {
    let t0 = Instant::now();
    let at = |secs| t0 + Duration::from_secs(secs);
    let refused = |alice: &mut Sub, code: u16, retry_after: Option<&'static str>| {
        let (refresh, _) = outputs(alice);
        let mut r = Response::from_request(&refresh[0], StatusCode::new(code).unwrap());
        if code == 401 {
            r.headers.push(
                sip_message::Header::new(HeaderName::WWW_AUTHENTICATE, "Digest realm=\"b\", nonce=\"n\"").unwrap(),
            );
        }
        if let Some(seconds) = retry_after {
            r.headers.push(sip_message::Header::new(HeaderName::RETRY_AFTER, seconds).unwrap());
        }
        alice.receive_response(at(540), &r);
    };
    // §4.1.2.2: a challenge, a 500 or a 503 leaves the subscription valid for the expiry
    // last known (600 s). The refresh is tried again half way there (570 s), or after a
    // sooner Retry-After; unanswered, the subscription lapses at 600 s.
    for (code, retry_after, again) in
        [(401, None, 570), (500, None, 570), (503, Some("10"), 550), (503, Some("45"), 570)]
    {
        let (_bob, mut alice) = subscribed(t0, 600);
        alice.handle_timeout(at(540));
        refused(&mut alice, code, retry_after);
        assert!(!alice.is_terminated(), "{code}");
        assert_eq!(sub_events(&mut alice), [], "{code}");
        assert_eq!(alice.poll_timeout(), Some(at(again)), "{code} {retry_after:?}");
        alice.handle_timeout(at(again));
        let (retried, _) = outputs(&mut alice);
        assert_eq!(retried.len(), 1, "{code}: tried again");
        assert_eq!(value(&retried[0].headers, HeaderName::EXPIRES).as_deref(), Some("3600"));
        assert_eq!(alice.poll_timeout(), Some(at(600)));
        alice.handle_timeout(at(600));
        assert_eq!(sub_events(&mut alice), [SubscriptionEvent::Terminated(Some("expired".into()))]);
    }
    // An unsubscribe refused so is tried again as one (Expires 0); none close to the end.
    let (_bob, mut alice) = subscribed(t0, 600);
    alice.unsubscribe().unwrap();
    refused(&mut alice, 500, None);
    alice.handle_timeout(at(570));
    let (retried, _) = outputs(&mut alice);
    assert_eq!(value(&retried[0].headers, HeaderName::EXPIRES).as_deref(), Some("0"));
    let r = Response::from_request(&retried[0], StatusCode::SERVER_INTERNAL_ERROR);
    alice.receive_response(at(598), &r);
    assert_eq!(alice.poll_timeout(), Some(at(600)), "no retry within MIN_RETRY_WINDOW of the end");
    // §4.1.2.1: too brief, with a longer Min-Expires: asked again at once for it.
    let (_bob, mut alice) = subscribed(t0, 600);
    alice.handle_timeout(at(540));
    let (refresh, _) = outputs(&mut alice);
    let mut brief = Response::from_request(&refresh[0], StatusCode::INTERVAL_TOO_BRIEF);
    brief.headers.push(sip_message::Header::new(HeaderName::MIN_EXPIRES, "7200").unwrap());
    alice.receive_response(at(540), &brief);
    let (again, _) = outputs(&mut alice);
    assert_eq!(value(&again[0].headers, HeaderName::EXPIRES).as_deref(), Some("7200"));
    assert!(!alice.is_terminated());
    // The codes it names, and a refresh that timed out, end it at once.
    for code in [404, 405, 408, 410, 416, 480, 481, 485, 489, 501, 604] {
        let (_bob, mut alice) = subscribed(t0, 600);
        alice.handle_timeout(at(540));
        refused(&mut alice, code, None);
        assert!(alice.is_terminated(), "{code}");
        assert_eq!(sub_events(&mut alice), [SubscriptionEvent::Terminated(Some(format!("refresh failed: {code}")))]);
    }
}

// ---- REFER inside a call -------------------------------------------------------------

fn session_out(s: &mut Session) -> (Vec<Request>, Vec<Response>, Vec<SessionEvent>) {
    let (mut rq, mut rs, mut ev) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(o) = s.poll_output() {
        match o {
            Output::Request(r) => match wire(r) {
                Message::Request(r) => rq.push(r),
                Message::Response(_) => unreachable!(),
            },
            Output::Response(r) => match wire(r) {
                Message::Response(r) => rs.push(r),
                Message::Request(_) => unreachable!(),
            },
            Output::Event(e) => ev.push(e),
        }
    }
    (rq, rs, ev)
}

/// Alice's call to Bob, answered and acknowledged at `t0`: her session and his.
fn answered_call(t0: Instant) -> (InviteSession<Counter>, InviteSession<Counter>) {
    let config = SessionConfig { session_expires: None, ..SessionConfig::default() };
    let mut alice_n = negotiator(1, 30000);
    let text = "INVITE sip:bob@biloxi.example.com SIP/2.0\r
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKcall\r
Max-Forwards: 70\r
From: Alice <sip:alice@atlanta.example.com>;tag=alice1\r
To: Bob <sip:bob@biloxi.example.com>\r
Call-ID: refer-test@atlanta.example.com\r
CSeq: 1 INVITE\r
Contact: <sip:alice@192.0.2.1>\r
Content-Length: 0\r
\r
";
    let Ok(Message::Request(mut invite)) = Message::parse(text.as_bytes().to_vec()) else { panic!() };
    invite.set_body(Some(MediaType::application_sdp()), alice_n.create_offer().to_bytes());
    let contact: Uri = "sip:bob@192.0.2.2".parse().unwrap();
    let dialog = Dialog::new_uas_early(&invite, "bob1", &contact).unwrap();
    let mut bob = InviteSession::uas(dialog, invite.clone(), negotiator(2, 30002), config.clone(), Counter(0)).unwrap();
    bob.accept(t0).unwrap();
    let (_, rs, _) = session_out(&mut bob);
    let dialog = Dialog::new_uac(&invite, &rs[0]).unwrap();
    let mut alice = InviteSession::uac(t0, dialog, &invite, &rs[0], alice_n, config, Counter(50)).unwrap();
    let (rq, _, _) = session_out(&mut alice);
    bob.receive_request(t0, &rq[0]);
    session_out(&mut bob);
    (alice, bob)
}

const CAROL: &str = "sip:carol@chicago.example.com";

/// At `t0` Alice asks Bob to call Carol, and Bob accepts: Alice's REFER, the target Bob
/// was asked for, and Bob's 202 and first NOTIFY.
fn transfer_to_carol(
    t0: Instant,
    alice: &mut InviteSession<Counter>,
    bob: &mut InviteSession<Counter>,
) -> (Request, Uri, Response, Request) {
    alice.refer(&CAROL.parse().unwrap()).unwrap();
    let (rq, _, _) = session_out(alice);
    let refer = rq[0].clone();
    bob.receive_request(t0, &refer);
    let (_, _, ev) = session_out(bob);
    let [SessionEvent::Refer { target, request }] = &ev[..] else { panic!("{ev:?}") };
    bob.accept_refer(t0, request).unwrap();
    let (rq, rs, _) = session_out(bob);
    (refer, target.clone(), rs[0].clone(), rq[0].clone())
}

#[test]
fn blind_transfer_by_refer() {
    let t0 = Instant::now();
    let (mut alice, mut bob) = answered_call(t0);

    // Alice transfers Bob to Carol.
    let (refer, target, accepted, trying) = transfer_to_carol(t0, &mut alice, &mut bob);
    assert_eq!(refer.method, Method::REFER);
    assert_eq!(value(&refer.headers, HeaderName::REFER_TO).as_deref(), Some("<sip:carol@chicago.example.com>"));
    assert_eq!(refer.headers.contact().count(), 1, "REFER carries the Contact");
    assert_eq!(target.to_string(), CAROL);
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    assert_eq!(trying.method, Method::NOTIFY);
    assert_eq!(value(&trying.headers, HeaderName::EVENT).as_deref(), Some("refer"));
    assert_eq!(value(&trying.headers, HeaderName::SUBSCRIPTION_STATE).as_deref(), Some("active;expires=60"));
    assert_eq!(value(&trying.headers, HeaderName::CONTENT_TYPE).as_deref(), Some("message/sipfrag;version=2.0"));
    assert_eq!(trying.body, Bytes::from("SIP/2.0 100 Trying\r\n"));

    alice.receive_response(t0, &accepted).unwrap();
    alice.receive_request(t0, &trying);
    let (_, rs, ev) = session_out(&mut alice);
    assert_eq!(rs[0].status, StatusCode::OK);
    assert_eq!(ev, [SessionEvent::ReferProgress { status: StatusCode::TRYING, done: false }]);

    // Bob's call to Carol is answered: the last NOTIFY.
    bob.refer_progress(t0, StatusCode::OK).unwrap();
    let (rq, _, _) = session_out(&mut bob);
    assert_eq!(value(&rq[0].headers, HeaderName::SUBSCRIPTION_STATE).as_deref(), Some("terminated;reason=noresource"));
    assert_eq!(rq[0].body, Bytes::from("SIP/2.0 200 OK\r\n"));
    assert!(bob.refer_progress(t0, StatusCode::OK).is_err(), "the subscription is over");
    alice.receive_request(t0, &rq[0]);
    let (_, _, ev) = session_out(&mut alice);
    assert_eq!(ev, [SessionEvent::ReferProgress { status: StatusCode::OK, done: true }]);
    // Then Alice hangs up.
    alice.bye().unwrap();
}

#[test]
fn a_transfer_asked_for_ends_when_its_subscription_runs_out() {
    let t0 = Instant::now();
    let (mut alice, mut bob) = answered_call(t0);
    let (_, _, accepted, trying) = transfer_to_carol(t0, &mut alice, &mut bob);
    alice.receive_response(t0, &accepted).unwrap();
    alice.receive_request(t0, &trying);
    session_out(&mut alice);
    // Twenty seconds on, Carol's phone rings: 40 s of the subscription are left.
    let t20 = t0 + Duration::from_secs(20);
    bob.refer_progress(t20, StatusCode::RINGING).unwrap();
    let (rq, _, _) = session_out(&mut bob);
    alice.receive_request(t20, &rq[0]);
    let (_, _, ev) = session_out(&mut alice);
    assert_eq!(ev, [SessionEvent::ReferProgress { status: StatusCode::RINGING, done: false }]);
    // No NOTIFY ends it: at its expiry the transfer is over, with the last status heard.
    let t60 = t0 + Duration::from_secs(60);
    assert_eq!(alice.poll_timeout(), Some(t60));
    alice.handle_timeout(t60 - Duration::from_millis(1));
    assert!(session_out(&mut alice).2.is_empty());
    alice.handle_timeout(t60);
    let (_, _, ev) = session_out(&mut alice);
    assert_eq!(ev, [SessionEvent::ReferProgress { status: StatusCode::RINGING, done: true }]);
    assert_eq!(alice.poll_timeout(), None, "nothing left to wait for");
    // Bob's last NOTIFY, late, is no longer the transfer's: it goes to the application.
    bob.handle_timeout(t60);
    let (rq, _, _) = session_out(&mut bob);
    alice.receive_request(t60, &rq[0]);
    let (_, _, ev) = session_out(&mut alice);
    assert!(matches!(&ev[..], [SessionEvent::Request(r)] if r.method == Method::NOTIFY), "{ev:?}");
}

#[test]
fn a_transfer_refused_or_never_notified_is_over() {
    let t0 = Instant::now();
    let (mut alice, _) = answered_call(t0);
    let carol: Uri = CAROL.parse().unwrap();
    // Refused: no subscription, nothing to wait for.
    alice.refer(&carol).unwrap();
    let (rq, _, _) = session_out(&mut alice);
    alice.receive_response(t0, &Response::from_request(&rq[0], StatusCode::DECLINE)).unwrap();
    assert_eq!(alice.poll_timeout(), None);
    // Accepted without an Expires, or with 0, and no NOTIFY within Timer N (64·T1): over,
    // with 408.
    for expires in [None, Some("0")] {
        alice.refer(&carol).unwrap();
        let (rq, _, _) = session_out(&mut alice);
        let mut accepted = Response::from_request(&rq[0], StatusCode::ACCEPTED);
        if let Some(expires) = expires {
            accepted.headers.push(sip_message::Header::new(HeaderName::EXPIRES, expires).unwrap());
        }
        alice.receive_response(t0, &accepted).unwrap();
        let timer_n = t0 + Duration::from_secs(32);
        assert_eq!(alice.poll_timeout(), Some(timer_n), "Expires {expires:?}");
        alice.handle_timeout(timer_n);
        let (_, _, ev) = session_out(&mut alice);
        assert_eq!(ev, [SessionEvent::ReferProgress { status: StatusCode::REQUEST_TIMEOUT, done: true }]);
    }
}
