//! Every transition of the four transaction machines (RFC 3261 §17 with RFC 6026), on
//! virtual time, over unreliable and reliable transports: the exact messages sent and the
//! instants they are sent at.

use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::header::RetryAfter;
use sip_message::{HeaderName, Message, Method, Request, Response, StatusCode};
use sip_transaction::{Config, Event, TransactionError, TransactionKey, TransactionLayer, Transmit};

const PEER: &str = "192.0.2.2:5060";

fn request(method: &str, branch: &str, extra: &str) -> Request {
    let text = format!(
        "{method} sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch={branch}\r\n\
Max-Forwards: 70\r\n\
Route: <sip:proxy.example.com;lr>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: Bob <sip:bob@biloxi.example.com>{extra}\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 {method}\r\n\
Content-Length: 0\r\n\r\n"
    );
    match Message::parse(Bytes::from(text)).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn invite() -> Request {
    request("INVITE", "z9hG4bK74bf9", "")
}

fn options() -> Request {
    request("OPTIONS", "z9hG4bKopt1", "")
}

fn response(to: &Request, status: StatusCode) -> Response {
    let r = Response::from_request(to, status);
    if status == StatusCode::TRYING { r } else { r.with_to_tag("a6c85cf").unwrap() }
}

fn message(bytes: &Bytes) -> Message {
    Message::parse(bytes.clone()).unwrap()
}

/// A layer on virtual time, and what it sent when.
struct Run {
    layer: TransactionLayer<&'static str>,
    start: Instant,
    now: Instant,
    sent: Vec<(Duration, Message)>,
    events: Vec<(Duration, Event<&'static str>)>,
}

impl Run {
    fn new(config: Config) -> Self {
        let start = Instant::now();
        Self { layer: TransactionLayer::new(config), start, now: start, sent: Vec::new(), events: Vec::new() }
    }

    fn default() -> Self {
        Self::new(Config::default())
    }

    fn drain(&mut self) {
        let at = self.now - self.start;
        while let Some(Transmit { to, bytes, .. }) = self.layer.poll_transmit() {
            assert_eq!(to, PEER);
            self.sent.push((at, message(&bytes)));
        }
        while let Some(e) = self.layer.poll_event() {
            self.events.push((at, e));
        }
    }

    /// Runs the timers up to `secs` after the start.
    fn run_until(&mut self, secs: f64) {
        let end = self.start + Duration::from_secs_f64(secs);
        while let Some(at) = self.layer.poll_timeout() {
            if at > end {
                break;
            }
            self.now = at;
            self.layer.handle_timeout(at);
            self.drain();
        }
        self.now = end;
    }

    fn at(&mut self, secs: f64) {
        self.run_until(secs);
    }

    fn send(&mut self, r: Request, reliable: bool) -> TransactionKey {
        let key = self.layer.send_request(self.now, r, PEER, reliable).unwrap();
        self.drain();
        key
    }

    fn receive(&mut self, m: impl Into<Message>, reliable: bool) {
        self.layer.handle_incoming(self.now, m.into(), PEER, reliable);
        self.drain();
    }

    fn respond(&mut self, key: &TransactionKey, r: Response) {
        self.layer.send_response(self.now, key, r).unwrap();
        self.drain();
    }

    /// Seconds at which messages were sent, and their first line.
    fn sent_lines(&self) -> Vec<(f64, String)> {
        self.sent.iter().map(|(at, m)| (at.as_secs_f64(), first_line(m))).collect()
    }

    fn take_sent(&mut self) -> Vec<(f64, String)> {
        let lines = self.sent_lines();
        self.sent.clear();
        lines
    }

    fn take_events(&mut self) -> Vec<(f64, String)> {
        let out = self.events.iter().map(|(at, e)| (at.as_secs_f64(), describe(e))).collect();
        self.events.clear();
        out
    }
}

fn first_line(m: &Message) -> String {
    let text = m.to_bytes();
    let end = text.iter().position(|&b| b == b'\r').unwrap();
    String::from_utf8_lossy(&text[..end]).into_owned()
}

fn describe(e: &Event<&'static str>) -> String {
    match e {
        Event::Request { key, request, cancels, .. } => {
            format!("request {} key={} cancels={}", request.method.as_str(), key.is_some(), cancels.is_some())
        }
        Event::Response { response, .. } => format!("response {}", response.status.as_u16()),
        Event::StrayResponse { response, .. } => format!("stray {}", response.status.as_u16()),
        Event::Timeout { timer, .. } => format!("timeout {timer:?}"),
        Event::TransportError { .. } => "transport error".into(),
        Event::Terminated { .. } => "terminated".into(),
    }
}

fn lines(list: &[(f64, &str)]) -> Vec<(f64, String)> {
    list.iter().map(|(t, l)| (*t, (*l).to_owned())).collect()
}

const INVITE_LINE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0";
const OPTIONS_LINE: &str = "OPTIONS sip:bob@biloxi.example.com SIP/2.0";
const ACK_LINE: &str = "ACK sip:bob@biloxi.example.com SIP/2.0";

// ---- INVITE client (§17.1.1, RFC 6026) ----

#[test]
fn invite_client_retransmits_until_timer_b() {
    let mut run = Run::default();
    run.send(invite(), false);
    run.at(40.0);
    let expected: Vec<(f64, &str)> = [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5].iter().map(|&t| (t, INVITE_LINE)).collect();
    assert_eq!(run.take_sent(), lines(&expected));
    assert_eq!(run.take_events(), lines(&[(32.0, "timeout B"), (32.0, "terminated")]));
    assert!(run.layer.is_empty());
}

#[test]
fn invite_client_over_a_reliable_transport_sends_once() {
    let mut run = Run::default();
    run.send(invite(), true);
    run.at(40.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, INVITE_LINE)]));
    assert_eq!(run.take_events(), lines(&[(32.0, "timeout B"), (32.0, "terminated")]));
}

#[test]
fn invite_client_proceeding_stops_retransmissions_and_timer_b() {
    let mut run = Run::default();
    let inv = invite();
    run.send(inv.clone(), false);
    run.at(1.0);
    run.receive(response(&inv, StatusCode::RINGING), false);
    run.at(100.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, INVITE_LINE), (0.5, INVITE_LINE)]));
    assert_eq!(run.take_events(), lines(&[(1.0, "response 180")]));
    assert_eq!(run.layer.len(), 1, "ringing can last");
}

#[test]
fn a_client_transaction_the_layer_above_abandons_ends_at_once() {
    // §9.1: an INVITE still ringing 64·T1 after its CANCEL is destroyed by the UAC.
    let mut run = Run::default();
    let inv = invite();
    let key = run.send(inv.clone(), false);
    run.receive(response(&inv, StatusCode::RINGING), false);
    run.take_events();
    run.layer.abandon(&key).unwrap();
    run.drain();
    assert_eq!(run.take_events(), lines(&[(0.0, "terminated")]));
    assert!(run.layer.is_empty());
    assert_eq!(run.layer.poll_timeout(), None, "no timer of it is left");
    assert!(matches!(run.layer.abandon(&key), Err(TransactionError::NoSuchTransaction(_))));
    // A server transaction owes its responses: it cannot be abandoned.
    run.receive(options(), false);
    let Some((_, Event::Request { key: Some(server), .. })) = run.events.pop() else { panic!("a request") };
    assert!(matches!(run.layer.abandon(&server), Err(TransactionError::InvalidState { .. })));
    assert_eq!(run.layer.len(), 1);
}

#[test]
fn invite_client_accepted_passes_every_2xx_until_timer_m() {
    let mut run = Run::default();
    let inv = invite();
    run.send(inv.clone(), false);
    run.at(0.2);
    run.receive(response(&inv, StatusCode::RINGING), false);
    run.at(2.0);
    run.receive(response(&inv, StatusCode::OK), false);
    run.at(3.0);
    run.receive(response(&inv, StatusCode::OK), false);
    run.receive(response(&inv, StatusCode::RINGING), false);
    run.at(40.0);
    // No ACK from the transaction for a 2xx: the layer above sends it.
    assert_eq!(run.take_sent(), lines(&[(0.0, INVITE_LINE)]));
    assert_eq!(
        run.take_events(),
        lines(&[(0.2, "response 180"), (2.0, "response 200"), (3.0, "response 200"), (34.0, "terminated")])
    );
}

#[test]
fn invite_client_completed_acks_every_failure_until_timer_d() {
    let mut run = Run::default();
    let inv = invite();
    run.send(inv.clone(), false);
    run.at(0.7);
    run.receive(response(&inv, StatusCode::BUSY_HERE), false);
    run.at(1.0);
    run.receive(response(&inv, StatusCode::BUSY_HERE), false);
    run.at(40.0);
    assert_eq!(run.sent_lines(), lines(&[(0.0, INVITE_LINE), (0.5, INVITE_LINE), (0.7, ACK_LINE), (1.0, ACK_LINE)]));
    assert_eq!(run.take_events(), lines(&[(0.7, "response 486"), (32.7, "terminated")]));
    // The ACK of §17.1.1.3.
    let Message::Request(ack) = &run.sent[2].1 else { panic!() };
    let text = String::from_utf8(ack.to_bytes().to_vec()).unwrap();
    assert_eq!(
        text,
        "ACK sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n\
Max-Forwards: 70\r\n\
Route: <sip:proxy.example.com;lr>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\r\n\
CSeq: 314159 ACK\r\n\
Content-Length: 0\r\n\r\n"
    );
}

#[test]
fn invite_client_reliable_failure_ends_at_once() {
    let mut run = Run::default();
    let inv = invite();
    run.send(inv.clone(), true);
    run.receive(response(&inv, StatusCode::NOT_FOUND), true);
    assert_eq!(run.take_sent(), lines(&[(0.0, INVITE_LINE), (0.0, ACK_LINE)]));
    assert_eq!(run.take_events(), lines(&[(0.0, "response 404"), (0.0, "terminated")]));
    assert!(run.layer.is_empty());
}

#[test]
fn invite_client_transport_error() {
    let mut run = Run::default();
    let key = run.send(invite(), false);
    run.at(0.1);
    run.layer.handle_transport_error(run.now, &key);
    run.drain();
    run.at(40.0);
    assert_eq!(run.take_events(), lines(&[(0.1, "transport error"), (0.1, "terminated")]));
    assert_eq!(run.take_sent(), lines(&[(0.0, INVITE_LINE)]));
}

// ---- non-INVITE client (§17.1.2) ----

#[test]
fn non_invite_client_retransmits_capped_at_t2_until_timer_f() {
    let mut run = Run::default();
    run.send(options(), false);
    run.at(40.0);
    let times = [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5];
    let expected: Vec<(f64, &str)> = times.iter().map(|&t| (t, OPTIONS_LINE)).collect();
    assert_eq!(run.take_sent(), lines(&expected));
    assert_eq!(run.take_events(), lines(&[(32.0, "timeout F"), (32.0, "terminated")]));
}

#[test]
fn non_invite_client_proceeding_retransmits_every_t2() {
    let mut run = Run::default();
    let opt = options();
    run.send(opt.clone(), false);
    run.at(0.2);
    run.receive(response(&opt, StatusCode::TRYING), false);
    run.at(10.0);
    assert_eq!(
        run.take_sent(),
        lines(&[(0.0, OPTIONS_LINE), (0.5, OPTIONS_LINE), (4.5, OPTIONS_LINE), (8.5, OPTIONS_LINE)])
    );
    run.receive(response(&opt, StatusCode::OK), false);
    run.receive(response(&opt, StatusCode::OK), false);
    run.at(20.0);
    assert!(run.take_sent().is_empty());
    assert_eq!(run.take_events(), lines(&[(0.2, "response 100"), (10.0, "response 200"), (15.0, "terminated")]));
}

#[test]
fn non_invite_client_reliable_final_ends_at_once() {
    let mut run = Run::default();
    let opt = options();
    run.send(opt.clone(), true);
    run.at(10.0);
    run.receive(response(&opt, StatusCode::OK), true);
    assert_eq!(run.take_sent(), lines(&[(0.0, OPTIONS_LINE)]));
    assert_eq!(run.take_events(), lines(&[(10.0, "response 200"), (10.0, "terminated")]));
}

// ---- INVITE server (§17.2.1, RFC 6026) ----

fn server_key(run: &Run) -> TransactionKey {
    match &run.events[0].1 {
        Event::Request { key: Some(k), .. } => k.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn invite_server_sends_100_trying_when_the_layer_above_is_silent() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    run.at(0.1);
    run.receive(inv.clone(), false);
    run.at(0.3);
    run.receive(inv.clone(), false);
    assert_eq!(run.take_sent(), lines(&[(0.2, "SIP/2.0 100 Trying"), (0.3, "SIP/2.0 100 Trying")]));
    assert_eq!(run.take_events(), lines(&[(0.0, "request INVITE key=true cancels=false")]));
}

#[test]
fn a_100_trying_waiting_for_its_timer_counts_in_the_layers_memory() {
    let start = Instant::now();
    let held = |trying_delay| {
        let mut layer = TransactionLayer::new(Config { trying_delay, ..Config::default() });
        layer.handle_incoming(start, Message::Request(invite()), PEER.to_string(), false);
        while layer.poll_event().is_some() {}
        layer.memory_bytes()
    };
    // Beyond the timer's own deadline, at least the response it will send.
    let waiting = held(Some(Duration::from_millis(200)));
    assert!(waiting >= held(None) + size_of::<Response>(), "the waiting 100 Trying is memory the layer holds");
}

#[test]
fn invite_server_proceeding_resends_the_last_provisional() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    let key = server_key(&run);
    run.at(0.1);
    run.respond(&key, response(&inv, StatusCode::RINGING));
    run.at(1.0);
    run.receive(inv.clone(), false);
    assert_eq!(run.take_sent(), lines(&[(0.1, "SIP/2.0 180 Ringing"), (1.0, "SIP/2.0 180 Ringing")]));
}

#[test]
fn invite_server_completed_retransmits_until_timer_h() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    let key = server_key(&run);
    run.respond(&key, response(&inv, StatusCode::BUSY_HERE));
    run.at(1.0);
    run.receive(inv.clone(), false);
    run.at(40.0);
    let times = [0.0, 0.5, 1.0, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5];
    let expected: Vec<(f64, &str)> = times.iter().map(|&t| (t, "SIP/2.0 486 Busy Here")).collect();
    assert_eq!(run.take_sent(), lines(&expected));
    assert_eq!(run.take_events()[1..], lines(&[(32.0, "timeout H"), (32.0, "terminated")]));
}

#[test]
fn invite_server_confirmed_by_ack_until_timer_i() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    let key = server_key(&run);
    run.respond(&key, response(&inv, StatusCode::BUSY_HERE));
    run.at(0.7);
    let ack = request("ACK", "z9hG4bK74bf9", ";tag=a6c85cf");
    run.receive(ack.clone(), false);
    run.at(1.0);
    run.receive(ack, false);
    run.receive(inv.clone(), false);
    run.at(40.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, "SIP/2.0 486 Busy Here"), (0.5, "SIP/2.0 486 Busy Here")]));
    // The ACK is absorbed; Timer I (T4) ends the transaction.
    assert_eq!(run.take_events()[1..], lines(&[(5.7, "terminated")]));
}

#[test]
fn invite_server_reliable_ack_ends_at_once() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), true);
    let key = server_key(&run);
    run.respond(&key, response(&inv, StatusCode::DECLINE));
    run.at(5.0);
    run.receive(request("ACK", "z9hG4bK74bf9", ";tag=a6c85cf"), true);
    assert_eq!(run.take_sent(), lines(&[(0.0, "SIP/2.0 603 Decline")]));
    assert_eq!(run.take_events()[1..], lines(&[(5.0, "terminated")]));
}

#[test]
fn invite_server_accepted_passes_acks_up_until_timer_l() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    let key = server_key(&run);
    run.respond(&key, response(&inv, StatusCode::OK));
    run.at(0.5);
    run.receive(inv.clone(), false);
    // The layer above retransmits its 2xx through the transaction.
    run.respond(&key, response(&inv, StatusCode::OK));
    run.at(0.8);
    run.receive(request("ACK", "z9hG4bK74bf9", ";tag=a6c85cf"), false);
    run.at(40.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, "SIP/2.0 200 OK"), (0.5, "SIP/2.0 200 OK")]));
    assert_eq!(run.take_events()[1..], lines(&[(0.8, "request ACK key=true cancels=false"), (32.0, "terminated")]));
    // Only 2xx may follow a 2xx.
    assert!(run.layer.is_empty());
}

#[test]
fn invite_server_accepted_keeps_no_response_for_timer_l() {
    // The 2xx is the layer above's to retransmit and a retransmitted INVITE is absorbed, so
    // for the 32 s of Timer L the transaction keeps no copy of what it sent.
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    let key = server_key(&run);
    run.respond(&key, response(&inv, StatusCode::RINGING));
    assert!(run.layer.message_bytes() > 0, "Proceeding keeps its provisional to send again");
    run.respond(&key, response(&inv, StatusCode::OK));
    assert_eq!(run.layer.message_bytes(), 0);
    run.at(1.0);
    run.receive(inv.clone(), false);
    assert_eq!(run.take_sent(), lines(&[(0.0, "SIP/2.0 180 Ringing"), (0.0, "SIP/2.0 200 OK")]));
}

#[test]
fn invite_server_refuses_responses_out_of_order() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    let key = server_key(&run);
    run.respond(&key, response(&inv, StatusCode::OK));
    let e = run.layer.send_response(run.now, &key, response(&inv, StatusCode::BUSY_HERE)).unwrap_err();
    assert_eq!(e, TransactionError::InvalidState { key: Box::new(key.clone()), status: 486 });
    let e = run.layer.send_response(run.now, &key, response(&inv, StatusCode::RINGING)).unwrap_err();
    assert!(matches!(e, TransactionError::InvalidState { status: 180, .. }));
    assert_eq!(run.layer.len(), 1, "a refused response leaves the transaction as it was");
}

// ---- non-INVITE server (§17.2.2) ----

#[test]
fn non_invite_server_trying_proceeding_completed() {
    let mut run = Run::default();
    let opt = options();
    run.receive(opt.clone(), false);
    let key = server_key(&run);
    run.at(0.5);
    run.receive(opt.clone(), false);
    assert!(run.take_sent().is_empty(), "Trying: retransmissions absorbed");
    run.respond(&key, response(&opt, StatusCode::TRYING));
    run.at(1.0);
    run.receive(opt.clone(), false);
    run.at(2.0);
    run.respond(&key, response(&opt, StatusCode::OK));
    run.at(3.0);
    run.receive(opt.clone(), false);
    run.at(40.0);
    assert_eq!(
        run.take_sent(),
        lines(&[
            (0.5, "SIP/2.0 100 Trying"),
            (1.0, "SIP/2.0 100 Trying"),
            (2.0, "SIP/2.0 200 OK"),
            (3.0, "SIP/2.0 200 OK"),
        ])
    );
    assert_eq!(run.take_events(), lines(&[(0.0, "request OPTIONS key=true cancels=false"), (34.0, "terminated")]));
    let e = run.layer.send_response(run.now, &key, response(&opt, StatusCode::OK)).unwrap_err();
    assert_eq!(e, TransactionError::NoSuchTransaction(Box::new(key)));
}

#[test]
fn non_invite_server_reliable_final_ends_at_once() {
    let mut run = Run::default();
    let opt = options();
    run.receive(opt.clone(), true);
    let key = server_key(&run);
    run.respond(&key, response(&opt, StatusCode::OK));
    assert_eq!(run.take_events()[1..], lines(&[(0.0, "terminated")]));
    assert!(run.layer.is_empty());
}

// ---- matching (§17.1.3, §17.2.3, §9.2) ----

#[test]
fn responses_match_by_branch_and_cseq_method() {
    let mut run = Run::default();
    let inv = invite();
    run.send(inv.clone(), true);
    // Same branch, CSeq method CANCEL: the CANCEL's transaction, not the INVITE's.
    let cancel = request("CANCEL", "z9hG4bK74bf9", "");
    run.receive(response(&cancel, StatusCode::OK), true);
    // Another branch.
    run.receive(response(&request("INVITE", "z9hG4bKother", ""), StatusCode::OK), true);
    assert_eq!(run.take_events(), lines(&[(0.0, "stray 200"), (0.0, "stray 200")]));
    assert_eq!(run.layer.len(), 1);
}

#[test]
fn cancel_gets_its_own_transaction_and_names_the_invite() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    let invite_key = server_key(&run);
    run.receive(request("CANCEL", "z9hG4bK74bf9", ""), false);
    let Event::Request { key: Some(cancel_key), cancels: Some(cancelled), .. } = &run.events[1].1 else {
        panic!("{:?}", run.events[1])
    };
    assert_eq!(**cancelled, invite_key);
    assert_ne!(*cancel_key, invite_key);
    assert_eq!(cancel_key.method(), &Method::CANCEL);
    // A CANCEL for nothing names nothing.
    run.receive(request("CANCEL", "z9hG4bKnothing", ""), false);
    assert!(matches!(&run.events[2].1, Event::Request { cancels: None, .. }));
}

#[test]
fn server_transactions_differ_by_sent_by() {
    let mut run = Run::default();
    let a = invite();
    let text =
        String::from_utf8(a.to_bytes().to_vec()).unwrap().replace("pc33.atlanta.example.com:5060", "other.example.com");
    let Message::Request(b) = Message::parse(Bytes::from(text)).unwrap() else { panic!() };
    run.receive(a, false);
    run.receive(b, false);
    assert_eq!(run.layer.len(), 2);
    // Host case does not matter, the default port does not either.
    let text = String::from_utf8(invite().to_bytes().to_vec())
        .unwrap()
        .replace("pc33.atlanta.example.com:5060", "PC33.Atlanta.Example.COM");
    let Message::Request(c) = Message::parse(Bytes::from(text)).unwrap() else { panic!() };
    run.receive(c, false);
    assert_eq!(run.layer.len(), 2, "a retransmission of the first");
}

#[test]
fn rfc2543_requests_match_without_the_magic_cookie() {
    let mut run = Run::default();
    let inv = request("INVITE", "oldstyle1", "");
    run.receive(inv.clone(), false);
    let key = server_key(&run);
    assert!(key.is_rfc2543());
    run.receive(inv.clone(), false);
    assert_eq!(run.layer.len(), 1, "the retransmission matched");
    run.respond(&key, response(&inv, StatusCode::BUSY_HERE));
    // An ACK with another To tag is not this transaction's.
    run.receive(request("ACK", "oldstyle1", ";tag=someone-else"), false);
    run.receive(request("ACK", "oldstyle1", ";tag=a6c85cf"), false);
    run.at(40.0);
    // The matching ACK confirmed the transaction before Timer G: no retransmission.
    assert_eq!(run.take_sent(), lines(&[(0.0, "SIP/2.0 486 Busy Here")]));
    assert_eq!(
        run.take_events(),
        lines(&[
            (0.0, "request INVITE key=true cancels=false"),
            (0.0, "request ACK key=false cancels=false"),
            (5.0, "terminated")
        ])
    );
}

#[test]
fn acks_and_responses_without_a_transaction_go_up() {
    let mut run = Run::default();
    run.receive(request("ACK", "z9hG4bKlate", ";tag=x"), false);
    run.receive(response(&options(), StatusCode::OK), false);
    assert_eq!(run.take_events(), lines(&[(0.0, "request ACK key=false cancels=false"), (0.0, "stray 200")]));
    assert!(run.layer.is_empty());
    assert!(run.take_sent().is_empty());
}

#[test]
fn requests_the_layer_cannot_take() {
    let mut run = Run::new(Config { max_transactions: 1, ..Config::default() });
    run.send(options(), false);
    assert!(matches!(run.layer.send_request(run.now, options(), PEER, false), Err(TransactionError::Duplicate(_))));
    assert!(matches!(
        run.layer.send_request(run.now, invite(), PEER, false),
        Err(TransactionError::TooManyTransactions(1))
    ));
    // Overloaded: a 503 with a To tag, no transaction; its retransmission gets the same.
    run.drain();
    run.sent.clear();
    run.receive(invite(), false);
    run.receive(invite(), false);
    assert_eq!(run.layer.refused_requests(), 2);
    assert_eq!(run.layer.len(), 1);
    assert!(run.take_events().is_empty(), "the layer above never sees it");
    run.drain();
    let sent: Vec<Message> = run.sent.drain(..).map(|(_, m)| m).collect();
    let [Message::Response(first), Message::Response(again)] = &sent[..] else { panic!("{sent:?}") };
    assert_eq!(first.status, StatusCode::SERVICE_UNAVAILABLE);
    let tag = first.headers.to_tag().unwrap().unwrap();
    assert!(tag.is_some());
    assert_eq!(again.headers.to_tag().unwrap().unwrap(), tag);
    assert_eq!(first.headers.cseq().unwrap().unwrap().method, Method::INVITE);
    let ack = request("ACK", "z9hG4bKa", ";tag=x");
    assert_eq!(run.layer.send_request(run.now, ack, PEER, false), Err(TransactionError::Ack));
    let no_cookie = request("MESSAGE", "nocookie", "");
    assert!(matches!(run.layer.send_request(run.now, no_cookie, PEER, false), Err(TransactionError::Malformed(_))));
    assert!(first.headers.get(&HeaderName::RETRY_AFTER).is_none(), "none unless configured");

    // With a Retry-After configured, the 503 says when to come back (whole seconds, up).
    let wait = Some(Duration::from_millis(4500));
    let mut run = Run::new(Config { max_transactions: 0, overload_retry_after: wait, ..Config::default() });
    run.receive(invite(), false);
    run.drain();
    let sent: Vec<Message> = run.sent.drain(..).map(|(_, m)| m).collect();
    let [Message::Response(refused)] = &sent[..] else { panic!("{sent:?}") };
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers.typed::<RetryAfter>().unwrap().unwrap().seconds, 5);
}

#[test]
fn cancel_request_is_built_from_the_invite() {
    let mut run = Run::default();
    let key = run.send(invite(), false);
    let cancel = run.layer.cancel_request(&key).unwrap();
    let text = String::from_utf8(cancel.to_bytes().to_vec()).unwrap();
    assert_eq!(
        text,
        "CANCEL sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK74bf9\r\n\
Max-Forwards: 70\r\n\
Route: <sip:proxy.example.com;lr>\r\n\
From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: Bob <sip:bob@biloxi.example.com>\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n\
CSeq: 314159 CANCEL\r\n\
Content-Length: 0\r\n\r\n"
    );
    let cancel_key = run.layer.send_request(run.now, cancel, PEER, false).unwrap();
    assert_ne!(cancel_key, key);
    assert_eq!(run.layer.len(), 2);
}

// ---- the remaining edges of the diagrams ----

#[test]
fn invite_client_calling_to_accepted_and_proceeding_to_completed() {
    let mut run = Run::default();
    let inv = invite();
    run.send(inv.clone(), false);
    run.at(0.3);
    run.receive(response(&inv, StatusCode::OK), false);
    run.at(40.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, INVITE_LINE)]));
    assert_eq!(run.take_events(), lines(&[(0.3, "response 200"), (32.3, "terminated")]));

    let mut run = Run::default();
    run.send(inv.clone(), false);
    run.receive(response(&inv, StatusCode::SESSION_PROGRESS), false);
    run.at(10.0);
    run.receive(response(&inv, StatusCode::TEMPORARILY_UNAVAILABLE), false);
    run.at(50.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, INVITE_LINE), (10.0, ACK_LINE)]));
    assert_eq!(run.take_events(), lines(&[(0.0, "response 183"), (10.0, "response 480"), (42.0, "terminated")]));
}

#[test]
fn non_invite_client_trying_to_completed_and_proceeding_to_timer_f() {
    let mut run = Run::default();
    let opt = options();
    run.send(opt.clone(), false);
    run.at(0.1);
    run.receive(response(&opt, StatusCode::NOT_FOUND), false);
    run.at(10.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, OPTIONS_LINE)]));
    assert_eq!(run.take_events(), lines(&[(0.1, "response 404"), (5.1, "terminated")]));

    let mut run = Run::default();
    run.send(opt.clone(), true);
    run.receive(response(&opt, StatusCode::TRYING), true);
    run.at(40.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, OPTIONS_LINE)]), "reliable: no retransmission");
    assert_eq!(run.take_events(), lines(&[(0.0, "response 100"), (32.0, "timeout F"), (32.0, "terminated")]));
}

#[test]
fn server_transactions_end_on_transport_errors_and_timer_j() {
    let mut run = Run::default();
    let inv = invite();
    run.receive(inv.clone(), false);
    let key = server_key(&run);
    run.respond(&key, response(&inv, StatusCode::BUSY_HERE));
    run.at(1.0);
    run.layer.handle_transport_error(run.now, &key);
    run.drain();
    run.at(40.0);
    assert_eq!(run.take_sent(), lines(&[(0.0, "SIP/2.0 486 Busy Here"), (0.5, "SIP/2.0 486 Busy Here")]));
    assert_eq!(run.take_events()[1..], lines(&[(1.0, "transport error"), (1.0, "terminated")]));

    let mut run = Run::default();
    let opt = options();
    run.receive(opt.clone(), false);
    let key = server_key(&run);
    run.at(0.4);
    run.respond(&key, response(&opt, StatusCode::OK));
    run.at(40.0);
    assert_eq!(run.take_sent(), lines(&[(0.4, "SIP/2.0 200 OK")]));
    assert_eq!(run.take_events()[1..], lines(&[(32.4, "terminated")]));
}
