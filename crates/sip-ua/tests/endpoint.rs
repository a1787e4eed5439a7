//! Two Endpoints on loopback UDP, as an application uses them: a call offered, rung,
//! accepted, held, resumed and hung up; a call rejected; a call redirected; OPTIONS and
//! MESSAGE taken by the application, or answered by default; a
//! registration with the test registrar (over a plain socket) that challenges, accepts and
//! removes it; a subscription with the test notifier (over a plain socket) that challenges,
//! accepts, notifies and ends it; a subscription one endpoint serves to the other, until
//! the subscriber ends it or the notifier shuts down; shutdown hanging up a call still
//! up; a TCP connection slow to open holding up nothing else.

use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::{Notifier, Registrar};

use bytes::Bytes;
use sip_dialog::{EndReason, SubscriptionState};
use sip_message::header::MediaType;
use sip_message::{Header, HeaderName, Message, Method, ParseLimits, Request, Response, StatusCode, Uri};
use sip_transport::rules::stamp_sent_by;
use sip_transport::stream::StreamSettings;
use sip_transport::udp::UdpSettings;
use sip_ua::driver::{Direction, Tap, Traced};
use sip_ua::endpoint::{Endpoint, EndpointError, Incoming, Listener};
use sip_ua::uac::{CallEnd, CallEvent, SubscriptionEvent, UacError};
use tokio::io::AsyncReadExt;
use tokio::net::UdpSocket;
use tokio::time::timeout;

const STEP: Duration = Duration::from_secs(10);

async fn endpoint(user: &str) -> Endpoint {
    Endpoint::builder()
        .listen(Listener::Udp("127.0.0.1:0".parse().unwrap()))
        .identity(format!("sip:{user}@127.0.0.1").parse().unwrap())
        .credentials(user, "wonderland")
        .answer_within(Duration::from_millis(300))
        .build()
        .await
        .expect("the endpoint starts")
}

fn uri_of(e: &Endpoint, user: &str) -> Uri {
    format!("sip:{user}@{}", e.local_addrs()[0].1).parse().unwrap()
}

/// The next request outside a call `endpoint` is asked to answer.
async fn asked(endpoint: &Endpoint) -> sip_ua::endpoint::IncomingRequest {
    let Some(Incoming::Request(asked)) = timeout(STEP, endpoint.incoming()).await.unwrap() else {
        panic!("a request outside a call")
    };
    asked
}

async fn next(call: &mut sip_ua::endpoint::Call) -> CallEvent {
    timeout(STEP, call.next_event()).await.expect("an event in time").expect("the call reports")
}

/// Waits for `wanted`, passing over provisional news.
async fn until(call: &mut sip_ua::endpoint::Call, wanted: impl Fn(&CallEvent) -> bool) -> CallEvent {
    loop {
        let event = next(call).await;
        if wanted(&event) {
            return event;
        }
        assert!(matches!(event, CallEvent::Trying | CallEvent::Ringing | CallEvent::EarlyMedia(_)), "{event:?}");
    }
}

#[tokio::test]
async fn a_call_is_offered_rung_accepted_held_resumed_and_hung_up() {
    let alice = endpoint("alice").await;
    let bob = endpoint("bob").await;
    let bob_uri = uri_of(&bob, "bob");
    let callee = tokio::spawn(async move {
        let mut offered = timeout(STEP, bob.next_call()).await.unwrap().expect("a call is offered");
        assert!(!offered.invite().body.is_empty(), "the INVITE carries an offer");
        offered.ring().await.unwrap();
        offered.accept().await.unwrap();
        let ended = timeout(STEP, offered.ended()).await.unwrap().unwrap();
        (bob, ended)
    });
    let mut call = alice.call(bob_uri).await.unwrap();
    assert_eq!(until(&mut call, |e| matches!(e, CallEvent::Ringing)).await, CallEvent::Ringing);
    let CallEvent::Answered(Some(answer)) = until(&mut call, |e| matches!(e, CallEvent::Answered(_))).await else {
        panic!("answered without SDP")
    };
    assert!(answer.to_string().contains("RTP/AVP"));
    call.hold().await.unwrap();
    assert_eq!(next(&mut call).await, CallEvent::Held);
    call.resume().await.unwrap();
    assert_eq!(next(&mut call).await, CallEvent::Resumed);
    // DTMF in an INFO: taken (a failure would come as the next event).
    call.send_dtmf_info('7', Duration::from_millis(100)).await.unwrap();
    call.hangup().await.unwrap();
    assert_eq!(next(&mut call).await, CallEvent::Ended(CallEnd::HungUp));
    let (bob, ended) = callee.await.unwrap();
    assert_eq!(ended, EndReason::ByeReceived);
    assert!(call.hold().await.is_err(), "no hold on an ended call");
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_rejected_call_and_requests_outside_a_dialog() {
    let alice = endpoint("alice").await;
    let bob = endpoint("bob").await;
    let bob_uri = uri_of(&bob, "bob");
    let callee = tokio::spawn(async move {
        let offered = timeout(STEP, bob.next_call()).await.unwrap().unwrap();
        let retry_after = Header::new(HeaderName::RETRY_AFTER, "60").unwrap();
        offered.respond(StatusCode::BUSY_HERE, vec![retry_after]).await.unwrap();
        assert!(offered.reject(StatusCode::DECLINE).await.is_err(), "answered once");
        bob
    });
    let mut call = alice.call(bob_uri.clone()).await.unwrap();
    let end = until(&mut call, |e| matches!(e, CallEvent::Ended(_))).await;
    assert_eq!(end, CallEvent::Ended(CallEnd::Failed(UacError::Rejected(StatusCode::BUSY_HERE))));
    let bob = callee.await.unwrap();
    // Redirected: 302 with the new target in Contact.
    let callee = tokio::spawn(async move {
        let offered = timeout(STEP, bob.next_call()).await.unwrap().unwrap();
        offered.redirect(vec!["sip:carol@192.0.2.3".parse().unwrap()]).await.unwrap();
        assert!(offered.redirect(vec!["sip:dave@192.0.2.4".parse().unwrap()]).await.is_err(), "answered once");
        bob
    });
    let mut call = alice.call(bob_uri.clone()).await.unwrap();
    let end = until(&mut call, |e| matches!(e, CallEvent::Ended(_))).await;
    assert_eq!(end, CallEvent::Ended(CallEnd::Failed(UacError::Rejected(StatusCode::MOVED_TEMPORARILY))));
    let bob = callee.await.unwrap();
    // Bob takes a MESSAGE (202) and leaves an OPTIONS to the default answer (200).
    let taker = tokio::spawn(async move {
        for _ in 0..2 {
            let asked = asked(&bob).await;
            if asked.request().method == Method::MESSAGE {
                assert_eq!(&asked.request().body[..], b"hello");
                asked.respond(StatusCode::ACCEPTED, Vec::new()).await.unwrap();
            }
        }
        bob
    });
    let options = alice.options(bob_uri.clone()).await.unwrap();
    assert_eq!(options.status, StatusCode::OK);
    assert!(options.headers.contains(&HeaderName::ALLOW), "the default answer says what Bob can do");
    assert_eq!(alice.message(bob_uri.clone(), "hello").await.unwrap().status, StatusCode::ACCEPTED);
    let bob = taker.await.unwrap();
    // A SUBSCRIBE reaches Bob too, and takes no plain 2xx: it would make a subscription
    // whose NOTIFYs nobody sends (accept_subscription makes one). The refusal leaves it to
    // the default answer, 405.
    let taker = tokio::spawn(async move {
        let asked = asked(&bob).await;
        assert_eq!(asked.request().method, Method::SUBSCRIBE);
        assert!(matches!(asked.respond(StatusCode::OK, Vec::new()).await, Err(EndpointError::Invalid(_))));
        bob
    });
    let refused = alice.subscribe(bob_uri.clone(), "presence", 600).await;
    assert!(matches!(refused, Err(EndpointError::Rejected(StatusCode::METHOD_NOT_ALLOWED))), "{refused:?}");
    let bob = taker.await.unwrap();
    // Nobody takes this one within answer_within: 480.
    assert_eq!(alice.message(bob_uri, "anyone?").await.unwrap().status, StatusCode::TEMPORARILY_UNAVAILABLE);
    bob.shutdown().await;
    // Nobody listens there any more: OPTIONS times out (Timer F, 32 s), so only check
    // that a call to a closed endpoint fails once its handle is gone.
    alice.shutdown().await;
}

/// A TCP listener that takes no more connections: its accept queue (backlog 0, room for
/// one) is filled by the connection returned beside it, so the kernel drops further SYNs
/// and a connect to it hangs until the connecting side gives up.
async fn unresponsive_listener() -> (tokio::net::TcpListener, tokio::net::TcpStream) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let filler = tokio::net::TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    (listener, filler)
}

#[tokio::test]
async fn a_connection_slow_to_open_holds_up_nothing_else() {
    let (stuck, _filler) = unresponsive_listener().await;
    let connect_timeout = Duration::from_secs(3);
    let alice = Endpoint::builder()
        .listen(Listener::Udp("127.0.0.1:0".parse().unwrap()))
        .listen(Listener::Tcp("127.0.0.1:0".parse().unwrap()))
        .identity("sip:alice@127.0.0.1".parse().unwrap())
        .stream_settings(StreamSettings { connect_timeout, ..StreamSettings::default() })
        .build()
        .await
        .unwrap();
    let bob = endpoint("bob").await;
    let nowhere: Uri = format!("sip:nobody@{};transport=tcp", stuck.local_addr().unwrap()).parse().unwrap();
    let started = std::time::Instant::now();
    // The INVITE's connection hangs; a MESSAGE to the same peer waits behind it.
    let mut call = alice.call(nowhere.clone()).await.unwrap();
    let (message, options) = tokio::join!(alice.message(nowhere, "behind the INVITE"), async {
        let options = timeout(Duration::from_millis(1500), alice.options(uri_of(&bob, "bob"))).await;
        (options, started.elapsed())
    });
    let (options, answered_after) = options;
    let options = options.expect("the OPTIONS to bob is not held up by the connection being opened");
    assert_eq!(options.unwrap().status, StatusCode::OK);
    assert!(answered_after < connect_timeout, "{answered_after:?}");
    // The MESSAGE fails with the connection, not after a connect timeout of its own.
    assert!(message.is_err(), "{message:?}");
    let failed_after = started.elapsed();
    assert!(failed_after >= connect_timeout && failed_after < connect_timeout * 2, "{failed_after:?}");
    let end = until(&mut call, |e| matches!(e, CallEvent::Ended(_))).await;
    assert_eq!(end, CallEvent::Ended(CallEnd::Failed(UacError::TransportFailed)));
    alice.shutdown().await;
    bob.shutdown().await;
}

fn pidf(text: &'static str) -> Option<(MediaType, Bytes)> {
    Some((MediaType::new("application", "pidf+xml").unwrap(), Bytes::from_static(text.as_bytes())))
}

async fn notified(subscription: &mut sip_ua::endpoint::Subscription) -> SubscriptionEvent {
    timeout(STEP, subscription.next_event()).await.expect("an event in time").expect("the subscription reports")
}

#[tokio::test]
async fn a_subscription_one_endpoint_serves_runs_until_the_subscriber_ends_it() {
    let alice = endpoint("alice").await;
    let bob = endpoint("bob").await;
    let bob_uri = uri_of(&bob, "bob");
    let (changed_tx, changed) = tokio::sync::oneshot::channel::<()>();
    let notifier = tokio::spawn(async move {
        let asked = asked(&bob).await;
        assert_eq!(asked.request().method, Method::SUBSCRIBE);
        let mut served = asked.accept_subscription(true, pidf("open")).await.unwrap();
        changed.await.unwrap();
        served.notify(pidf("closed")).await.unwrap();
        let reason = timeout(STEP, served.ended()).await.unwrap().unwrap();
        assert!(served.notify(None).await.is_err(), "nothing to NOTIFY once it ended");
        (bob, reason)
    });
    let mut subscription = alice.subscribe(bob_uri, "presence", 600).await.unwrap();
    assert_eq!(subscription.expires, 600);
    let open = SubscriptionEvent::Notified { state: SubscriptionState::Active, body: pidf("open") };
    assert_eq!(notified(&mut subscription).await, open);
    changed_tx.send(()).unwrap();
    let closed = SubscriptionEvent::Notified { state: SubscriptionState::Active, body: pidf("closed") };
    assert_eq!(notified(&mut subscription).await, closed);
    timeout(STEP, subscription.unsubscribe()).await.unwrap().unwrap();
    let (bob, reason) = notifier.await.unwrap();
    assert_eq!(reason.as_deref(), Some("timeout"), "an unsubscribe ends it as an expiry does");
    bob.shutdown().await;
    alice.shutdown().await;
}

#[tokio::test]
async fn a_notifier_shutting_down_ends_its_subscriptions() {
    let alice = endpoint("alice").await;
    let bob = endpoint("bob").await;
    let bob_uri = uri_of(&bob, "bob");
    let notifier = tokio::spawn(async move {
        let asked = asked(&bob).await;
        // Pending: the subscriber waits for authorization.
        let served = asked.accept_subscription(false, None).await.unwrap();
        (bob, served)
    });
    let mut subscription = alice.subscribe(bob_uri, "presence", 600).await.unwrap();
    let pending = SubscriptionEvent::Notified { state: SubscriptionState::Pending, body: None };
    assert_eq!(notified(&mut subscription).await, pending);
    let (bob, mut served) = notifier.await.unwrap();
    served.activate(pidf("open")).await.unwrap();
    let active = SubscriptionEvent::Notified { state: SubscriptionState::Active, body: pidf("open") };
    assert_eq!(notified(&mut subscription).await, active);
    // Shutdown waits for the last NOTIFY's answer, and the subscriber hears why.
    timeout(STEP, bob.shutdown()).await.unwrap();
    let last =
        SubscriptionEvent::Notified { state: SubscriptionState::Terminated(Some("noresource".into())), body: None };
    assert_eq!(notified(&mut subscription).await, last);
    assert_eq!(notified(&mut subscription).await, SubscriptionEvent::Terminated(Some("noresource".into())));
    assert_eq!(timeout(STEP, served.ended()).await.unwrap().unwrap().as_deref(), Some("noresource"));
    alice.shutdown().await;
}

#[tokio::test]
async fn shutdown_hangs_up_a_call_still_up() {
    let alice = endpoint("alice").await;
    let bob = endpoint("bob").await;
    let bob_uri = uri_of(&bob, "bob");
    let callee = tokio::spawn(async move {
        let mut offered = timeout(STEP, bob.next_call()).await.unwrap().unwrap();
        offered.accept().await.unwrap();
        let ended = timeout(STEP, offered.ended()).await.unwrap().unwrap();
        (bob, ended)
    });
    let mut call = alice.call(bob_uri).await.unwrap();
    until(&mut call, |e| matches!(e, CallEvent::Answered(_))).await;
    alice.shutdown().await;
    let (bob, ended) = callee.await.unwrap();
    assert_eq!(ended, EndReason::ByeReceived, "shutdown sends BYE");
    bob.shutdown().await;
}

/// The test registrar on `socket`, until it has accepted `count` REGISTERs: the expiry
/// and Contact each accepted one asked for, and every REGISTER received.
async fn registrar(socket: UdpSocket, count: usize) -> (Vec<(u32, String)>, Vec<Request>) {
    let mut registrar = Registrar::new(0, u32::MAX);
    let mut accepted = Vec::new();
    let mut buf = vec![0; 65_536];
    while accepted.len() < count {
        let (n, from) = socket.recv_from(&mut buf).await.unwrap();
        let Ok(Message::Request(request)) = Message::parse(Bytes::copy_from_slice(&buf[..n])) else { continue };
        let response = registrar.answer(&request);
        if response.status == StatusCode::OK {
            let expires = request.headers.expires().unwrap().unwrap().0;
            let contact = request.headers.get(&HeaderName::CONTACT).unwrap().value().clone();
            accepted.push((expires, String::from_utf8_lossy(&contact).into_owned()));
        }
        socket.send_to(&response.to_bytes(), from).await.unwrap();
    }
    (accepted, registrar.registers)
}

/// The test registrar on loopback, taking two REGISTERs (a binding and its removal), and
/// Alice, listening on UDP at `listen`, with an instance id (RFC 5626).
async fn registrar_and_alice(
    listen: &str,
) -> (Uri, tokio::task::JoinHandle<(Vec<(u32, String)>, Vec<Request>)>, Endpoint) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let registrar_uri: Uri = format!("sip:{}", socket.local_addr().unwrap()).parse().unwrap();
    let registered = tokio::spawn(registrar(socket, 2));
    let alice = Endpoint::builder()
        .listen(Listener::Udp(listen.parse().unwrap()))
        .identity("sip:alice@127.0.0.1".parse().unwrap())
        .credentials("alice", "wonderland")
        .instance("urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
        .build()
        .await
        .unwrap();
    (registrar_uri, registered, alice)
}

#[tokio::test]
async fn a_registration_is_challenged_accepted_and_removed() {
    let (registrar_uri, registered, alice) = registrar_and_alice("127.0.0.1:0").await;
    let registration = alice.register(registrar_uri, 600).await.unwrap();
    assert_eq!(registration.expires, 600);
    registration.unregister().await.unwrap();
    let (seen, registers) = timeout(STEP, registered).await.unwrap().unwrap();
    assert_eq!(registers.len(), 3, "challenged once; the removal carries credentials at once");
    let expiries: Vec<u32> = seen.iter().map(|(e, _)| *e).collect();
    assert_eq!(expiries, [600, 0], "registered, then removed");
    assert!(
        seen[0].1.contains("+sip.instance=\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\"")
            && seen[0].1.contains("reg-id=1"),
        "the binding names the instance (RFC 5626): {}",
        seen[0].1
    );
    let bob = endpoint("bob").await;
    let wrong = Endpoint::builder()
        .listen(Listener::Udp("127.0.0.1:0".parse().unwrap()))
        .credentials("mallory", "guess")
        .build()
        .await
        .unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let registrar_uri: Uri = format!("sip:{}", socket.local_addr().unwrap()).parse().unwrap();
    tokio::spawn(registrar(socket, 1));
    match wrong.register(registrar_uri, 600).await {
        Err(EndpointError::AuthFailed(_)) => {}
        other => panic!("a refused password is an auth failure: {other:?}"),
    }
    alice.shutdown().await;
    bob.shutdown().await;
    wrong.shutdown().await;
}

/// The test notifier on `socket` (challenging new subscriptions), until it has taken
/// `count` SUBSCRIBEs: every SUBSCRIBE received.
async fn notifier(socket: UdpSocket, count: usize) -> Vec<Request> {
    let local = socket.local_addr().unwrap();
    let mut notifier = Notifier::new(format!("sip:presence@{local}").parse().unwrap(), true);
    let mut buf = vec![0; 65_536];
    while notifier.subscribes.len() < count || notifier.active() > 0 {
        let (n, from) = socket.recv_from(&mut buf).await.unwrap();
        let now = std::time::Instant::now();
        match Message::parse(Bytes::copy_from_slice(&buf[..n])) {
            Ok(Message::Request(request)) => {
                let (responses, notifies) = notifier.receive(now, &request);
                for response in responses {
                    socket.send_to(&response.to_bytes(), from).await.unwrap();
                }
                for mut notify in notifies {
                    stamp_sent_by(&mut notify, &sip_message::header::Transport::UDP, local).unwrap();
                    socket.send_to(&notify.to_bytes(), from).await.unwrap();
                }
            }
            Ok(Message::Response(response)) => notifier.receive_response(now, &response),
            Err(_) => {}
        }
    }
    notifier.subscribes
}

#[tokio::test]
async fn a_subscription_is_challenged_notified_and_ended() {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let presence: Uri = format!("sip:bob@{}", socket.local_addr().unwrap()).parse().unwrap();
    let notified = tokio::spawn(notifier(socket, 3));
    let alice = endpoint("alice").await;
    let mut subscription = alice.subscribe(presence, "presence", 3600).await.unwrap();
    assert_eq!(subscription.expires, 600, "the notifier grants 600 s at most");
    let Some(SubscriptionEvent::Notified { body: Some((kind, body)), .. }) =
        timeout(STEP, subscription.next_event()).await.unwrap()
    else {
        panic!("the first NOTIFY comes with the presence document");
    };
    assert!(kind.is("application", "pidf+xml"));
    assert_eq!(&body[..], b"<presence>open</presence>");
    timeout(STEP, subscription.unsubscribe()).await.unwrap().unwrap();
    let subscribes = timeout(STEP, notified).await.unwrap().unwrap();
    let expiries: Vec<u32> = subscribes.iter().map(|s| s.headers.expires().unwrap().unwrap().0).collect();
    assert_eq!(expiries, [3600, 3600, 0], "challenged, accepted, ended");
    alice.shutdown().await;
}

#[tokio::test]
async fn the_builders_limits_reach_the_listeners_and_the_answerer() {
    // Datagrams parsed with at most 4 header fields, one stream connection at a time.
    let bob = Endpoint::builder()
        .listen(Listener::Udp("127.0.0.1:0".parse().unwrap()))
        .listen(Listener::Tcp("127.0.0.1:0".parse().unwrap()))
        .udp_settings(UdpSettings { parse: ParseLimits { max_headers: 4, ..ParseLimits::default() } })
        .stream_settings(StreamSettings { max_connections: 1, ..StreamSettings::default() })
        .build()
        .await
        .unwrap();
    let alice = endpoint("alice").await;
    let refused = alice.options(uri_of(&bob, "bob")).await.unwrap();
    assert_eq!(refused.status, StatusCode::MESSAGE_TOO_LARGE, "more header fields than bob takes");
    let tcp = bob.local_addrs()[1].1;
    let mut first = tokio::net::TcpStream::connect(tcp).await.unwrap();
    let mut second = tokio::net::TcpStream::connect(tcp).await.unwrap();
    let mut buf = [0u8; 16];
    let closed = timeout(STEP, second.read(&mut buf)).await.expect("the second connection is closed");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    let open = timeout(Duration::from_millis(300), first.read(&mut buf)).await;
    assert!(open.is_err(), "the first connection stays open: {open:?}");
    bob.shutdown().await;

    // No request outside a call may wait for the application: a MESSAGE gets its default
    // answer (480) at once, not after answer_within.
    let carol = Endpoint::builder()
        .listen(Listener::Udp("127.0.0.1:0".parse().unwrap()))
        .answer_within(Duration::from_secs(60))
        .max_asked(0)
        .build()
        .await
        .unwrap();
    let answer = timeout(STEP, alice.message(uri_of(&carol, "carol"), "anyone?")).await.expect("answered at once");
    assert_eq!(answer.unwrap().status, StatusCode::TEMPORARILY_UNAVAILABLE);
    carol.shutdown().await;
    alice.shutdown().await;
}

#[tokio::test]
async fn a_transfer_the_caller_asks_of_an_answered_call_reaches_the_application() {
    let alice = endpoint("alice").await;
    let bob = endpoint("bob").await;
    let bob_uri = uri_of(&bob, "bob");
    let carol: Uri = "sip:carol@192.0.2.3".parse().unwrap();
    let callee = tokio::spawn(async move {
        let Some(Incoming::Call(mut offered)) = timeout(STEP, bob.incoming()).await.unwrap() else { panic!("a call") };
        offered.accept().await.unwrap();
        let target = timeout(STEP, offered.transfer_requested()).await.expect("a transfer in time");
        // Bob calls Carol, and the call is answered.
        offered.transfer_progress(StatusCode::OK).await.unwrap();
        let ended = timeout(STEP, offered.ended()).await.unwrap().unwrap();
        assert_eq!(timeout(STEP, offered.transfer_requested()).await.unwrap(), None, "no more once the call is over");
        (bob, target, ended)
    });
    let mut call = alice.call(bob_uri).await.unwrap();
    until(&mut call, |e| matches!(e, CallEvent::Answered(_))).await;
    call.refer(carol.clone()).await.unwrap();
    // The NOTIFYs of Bob's progress: the 100 Trying of the acceptance, then the 200.
    let mut progress = Vec::new();
    while progress.last() != Some(&(StatusCode::OK, true)) {
        match next(&mut call).await {
            CallEvent::TransferProgress { status, done } => progress.push((status, done)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(progress, [(StatusCode::TRYING, false), (StatusCode::OK, true)]);
    call.hangup().await.unwrap();
    assert_eq!(next(&mut call).await, CallEvent::Ended(CallEnd::HungUp));
    let (bob, target, ended) = callee.await.unwrap();
    assert_eq!(target, Some(carol));
    assert_eq!(ended, EndReason::ByeReceived);
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test]
async fn a_listener_on_a_wildcard_address_gives_a_contact_the_peer_can_reach() {
    let (registrar_uri, registered, alice) = registrar_and_alice("0.0.0.0:0").await;
    let port = alice.local_addrs()[0].1.port();
    let registration = alice.register(registrar_uri, 600).await.unwrap();
    registration.unregister().await.unwrap();
    let (seen, _) = timeout(STEP, registered).await.unwrap().unwrap();
    for (_, contact) in &seen {
        assert!(contact.contains(&format!("@127.0.0.1:{port}>")), "the interface toward the registrar: {contact}");
        assert!(contact.contains("reg-id=1"), "the parameters stay: {contact}");
    }
    alice.shutdown().await;
}

#[tokio::test]
async fn an_answer_from_a_wildcard_listener_names_the_interface_toward_the_caller() {
    let sent = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&sent);
    let tap: Tap = Arc::new(move |m: &Traced| {
        if m.direction == Direction::Sent {
            seen.lock().unwrap().push(m.bytes.clone());
        }
    });
    let bob = Endpoint::builder().listen(Listener::Udp("0.0.0.0:0".parse().unwrap())).trace(tap).build().await.unwrap();
    let port = bob.local_addrs()[0].1.port();
    let bob_uri: Uri = format!("sip:bob@127.0.0.1:{port}").parse().unwrap();
    let alice = endpoint("alice").await;
    let callee = tokio::spawn(async move {
        let Some(Incoming::Call(mut offered)) = timeout(STEP, bob.incoming()).await.unwrap() else { panic!("a call") };
        offered.accept().await.unwrap();
        assert_eq!(timeout(STEP, offered.ended()).await.unwrap().unwrap(), EndReason::ByeReceived);
        bob
    });
    let mut call = alice.call(bob_uri).await.unwrap();
    until(&mut call, |e| matches!(e, CallEvent::Answered(_))).await;
    call.hangup().await.unwrap();
    assert_eq!(next(&mut call).await, CallEvent::Ended(CallEnd::HungUp));
    let bob = callee.await.unwrap();
    let answers: Vec<Response> = sent
        .lock()
        .unwrap()
        .iter()
        .filter_map(|b| match Message::parse(b.clone()) {
            Ok(Message::Response(r)) if r.status == StatusCode::OK && r.headers.contains(&HeaderName::CONTACT) => {
                Some(r)
            }
            _ => None,
        })
        .collect();
    assert!(!answers.is_empty(), "the 200 to the INVITE was sent");
    for answer in answers {
        let contact = answer.headers.get(&HeaderName::CONTACT).unwrap().value().clone();
        let contact = String::from_utf8_lossy(&contact).into_owned();
        assert!(contact.contains(&format!("@127.0.0.1:{port}>")), "the interface toward Alice: {contact}");
    }
    alice.shutdown().await;
    bob.shutdown().await;
}
