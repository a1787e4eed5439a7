//! The UAC core behind a real transaction layer, on virtual time, against the answering
//! UAS behind its own (calls: answered, held and resumed, hung up; rejected; cancelled
//! while ringing; unanswered), against a registrar written here with the digest server
//! of `sip-auth` (challenge, credentials, 423, refresh, unregister), and against a
//! notifier made of the `Subscription` of `sip-dialog` (subscribe, NOTIFY, refresh,
//! unsubscribe; a NOTIFY before the 2xx).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

mod common;
use common::{Notifier, Registrar};

use sip_auth::DigestClient;
use sip_dialog::{
    Dialog, EndReason, InviteSession, Output, SessionConfig, SessionEvent, StdEntropy, SubscriptionState,
};
use sip_message::header::{Authorization, MediaType, NameAddr, Transport as TransportName};
use sip_message::{HeaderName, Message, Method, Request, Response, StatusCode};
use sip_sdp::attr::Direction;
use sip_sdp::{Capabilities, Codec, MediaCapability, Negotiator};
use sip_transaction::{Config, Event, TransactionKey, TransactionLayer};
use sip_transport::Target;
use sip_transport::rules::stamp_sent_by;
use sip_ua::answer::{self, AnswerPolicy, Answerer, CallReport};
use sip_ua::uac::{
    Action, CallEnd, CallEvent, Handle, Peer, RegistrationEvent, SubscriptionEvent, Uac, UacConfig, UacError, UacEvent,
};

const ALICE: ([u8; 4], u16) = ([192, 0, 2, 1], 5060);
const BOB: ([u8; 4], u16) = ([192, 0, 2, 2], 5090);

fn addr(a: ([u8; 4], u16)) -> SocketAddr {
    SocketAddr::from(a)
}

fn udp(a: ([u8; 4], u16)) -> Target {
    Target::new(TransportName::UDP, addr(a))
}

/// What the far side of the UAC is: the answering UAS, a registrar written here, or
/// nobody (everything sent is lost).
enum Far {
    Answerer(Box<Answerer>),
    Registrar(Box<Registrar>),
    Notifier(Box<Notifier>),
    Session(Box<FarSession>),
    Nobody,
}

/// A UAS made of sip-dialog's session alone, driven by the test: it answers the INVITE
/// and keeps the session, to send requests in the call (a REFER) and see what comes back.
#[derive(Default)]
struct FarSession {
    session: Option<InviteSession>,
    /// The server transaction of each request taken (by CSeq), for the session's response.
    serving: Vec<(u32, Method, TransactionKey)>,
    events: Vec<SessionEvent>,
}

impl FarSession {
    fn request(&mut self, now: Instant, key: Option<TransactionKey>, request: Request) {
        if let Some(key) = key {
            let cseq = request.headers.cseq().unwrap().unwrap();
            self.serving.push((cseq.seq, cseq.method, key));
        }
        match &mut self.session {
            Some(session) => session.receive_request(now, &request),
            None => {
                let contact: sip_message::Uri = "sip:bob@192.0.2.2:5090".parse().unwrap();
                let dialog = Dialog::new_uas_early(&request, "bob1", &contact).unwrap();
                let caps = Capabilities::new(
                    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
                    vec![MediaCapability::audio(30000, vec![Codec::pcmu()])],
                );
                let config = SessionConfig { session_expires: None, ..SessionConfig::default() };
                let negotiator = Negotiator::new(caps, 7);
                let mut session =
                    InviteSession::uas(dialog, request, negotiator, config, StdEntropy::default()).unwrap();
                session.accept(now).unwrap();
                self.session = Some(session);
            }
        }
    }

    fn session(&mut self) -> &mut InviteSession {
        self.session.as_mut().expect("the call was answered")
    }
}

/// The UAC at ALICE and the far side at BOB, each behind a transaction layer, wired by
/// an in-memory network that loses nothing (or everything, with `Far::Nobody`).
struct Net {
    now: Instant,
    uac: Uac,
    uac_layer: TransactionLayer<Target>,
    far: Far,
    far_layer: TransactionLayer<Target>,
    events: Vec<(Handle, CallEvent)>,
    registration: Vec<RegistrationEvent>,
    subscription: Vec<SubscriptionEvent>,
    responses: Vec<Result<Box<Response>, UacError>>,
    reports: Vec<CallReport>,
    /// Every message on the wire, as (from ALICE?, message).
    wire: Vec<(bool, Message)>,
    /// Client transactions the UAC gave up on.
    abandoned: usize,
    /// Lose every message from the far side from now on.
    deaf: bool,
}

fn stamped(mut request: Request, from: ([u8; 4], u16)) -> Request {
    stamp_sent_by(&mut request, &TransportName::UDP, addr(from)).unwrap();
    request
}

impl Net {
    fn new(far: Far) -> Self {
        let mut config =
            UacConfig::new("sip:alice@192.0.2.1:5060".parse().unwrap(), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        config.session = SessionConfig { session_expires: None, ..SessionConfig::default() };
        Self {
            now: Instant::now(),
            uac: Uac::new(config),
            uac_layer: TransactionLayer::new(Config::default()),
            far,
            far_layer: TransactionLayer::new(Config::default()),
            events: Vec::new(),
            registration: Vec::new(),
            subscription: Vec::new(),
            responses: Vec::new(),
            reports: Vec::new(),
            wire: Vec::new(),
            abandoned: 0,
            deaf: false,
        }
    }

    fn answerer(policy: AnswerPolicy) -> Far {
        let session = SessionConfig { session_expires: None, ..SessionConfig::default() };
        Far::Answerer(Box::new(Answerer::with_entropy(
            policy,
            "sip:bob@192.0.2.2:5090".parse().unwrap(),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            session,
            StdEntropy::default(),
        )))
    }

    fn peer(&self, uri: &str) -> Peer {
        Peer::new(
            uri.parse().unwrap(),
            udp(BOB),
            NameAddr::new("sip:alice@example.com".parse::<sip_message::Uri>().unwrap()),
        )
    }

    /// Moves everything until both sides are quiet.
    fn pump(&mut self) {
        let now = self.now;
        loop {
            let mut busy = false;
            while let Some(event) = self.uac_layer.poll_event() {
                busy = true;
                if let Some(Event::Request { key: Some(key), request, .. }) = self.uac.handle_event(now, event) {
                    panic!("the UAC left a request to its neighbour: {request:?} {key:?}");
                }
            }
            while let Some(action) = self.uac.poll_action() {
                busy = true;
                match action {
                    Action::Request { owner, request, target } => {
                        let request = stamped(request, ALICE);
                        let key = self.uac_layer.send_request(now, request.clone(), target, false).expect("sent");
                        self.uac.request_sent(owner, request, key);
                    }
                    Action::Ack { request, target } => {
                        assert_eq!(target.remote, addr(BOB));
                        self.deliver(true, stamped(request, ALICE).to_bytes());
                    }
                    Action::Respond { key, response } => {
                        self.uac_layer.send_response(now, &key, response).expect("the UAC's response goes");
                    }
                    Action::Abandon { key } => {
                        self.uac_layer.abandon(&key).expect("the INVITE's transaction is there");
                        self.abandoned += 1;
                    }
                    Action::Event(UacEvent::Call { call, event }) => self.events.push((call, event)),
                    Action::Event(UacEvent::Registration { event, .. }) => self.registration.push(event),
                    Action::Event(UacEvent::Response { outcome, .. }) => self.responses.push(outcome),
                    Action::Event(UacEvent::Subscription { event, .. }) => self.subscription.push(event),
                }
            }
            while let Some(event) = self.far_layer.poll_event() {
                busy = true;
                match &mut self.far {
                    Far::Answerer(a) => a.handle_event(now, event),
                    Far::Registrar(r) => {
                        if let Event::Request { key: Some(key), request, .. } = event {
                            let response = r.answer(&request);
                            self.far_layer.send_response(now, &key, response).unwrap();
                        }
                    }
                    Far::Notifier(n) => match event {
                        Event::Request { key: Some(key), request, .. } => {
                            let (responses, notifies) = n.receive(now, &request);
                            let notify_first = n.notify_first;
                            if notify_first {
                                self.send_notifies(notifies.clone());
                            }
                            for response in responses {
                                self.far_layer.send_response(now, &key, response).unwrap();
                            }
                            if !notify_first {
                                self.send_notifies(notifies);
                            }
                        }
                        Event::Response { response, .. } => n.receive_response(now, &response),
                        _ => {}
                    },
                    Far::Session(f) => match event {
                        Event::Request { key, request, .. } => f.request(now, key, request),
                        Event::Response { response, .. } => f.session().receive_response(now, &response).unwrap(),
                        _ => {}
                    },
                    Far::Nobody => {}
                }
            }
            if let Far::Session(f) = &mut self.far {
                while let Some(output) = f.session.as_mut().and_then(InviteSession::poll_output) {
                    busy = true;
                    match output {
                        Output::Response(response) => {
                            let cseq = response.headers.cseq().unwrap().unwrap();
                            let at = f.serving.iter().position(|(n, m, _)| *n == cseq.seq && *m == cseq.method);
                            let (_, _, key) = f.serving.remove(at.expect("a request to answer"));
                            self.far_layer.send_response(now, &key, response).unwrap();
                        }
                        Output::Request(request) => {
                            self.far_layer.send_request(now, stamped(request, BOB), udp(ALICE), false).unwrap();
                        }
                        Output::Event(event) => f.events.push(event),
                    }
                }
            }
            if let Far::Answerer(a) = &mut self.far {
                while let Some(action) = a.poll_action() {
                    busy = true;
                    match action {
                        answer::Action::Respond { key, response } => {
                            let _ = self.far_layer.send_response(now, &key, response);
                        }
                        answer::Action::Request { dialog, request, target } => {
                            let request = stamped(request, BOB);
                            let key = self.far_layer.send_request(now, request.clone(), target, false).unwrap();
                            a.request_sent(dialog, request, key);
                        }
                        answer::Action::Report(report) => self.reports.push(report),
                        answer::Action::Offered { .. }
                        | answer::Action::Asked { .. }
                        | answer::Action::TransferRequested { .. }
                        | answer::Action::SubscriptionEnded { .. } => {
                            unreachable!("the policy answers by itself")
                        }
                    }
                }
            }
            while let Some(t) = self.uac_layer.poll_transmit() {
                busy = true;
                self.deliver(true, t.bytes);
            }
            while let Some(t) = self.far_layer.poll_transmit() {
                busy = true;
                self.deliver(false, t.bytes);
            }
            if !busy {
                break;
            }
        }
    }

    /// Sends the notifier's NOTIFYs from BOB to ALICE.
    fn send_notifies(&mut self, notifies: Vec<Request>) {
        for notify in notifies {
            self.far_layer.send_request(self.now, stamped(notify, BOB), udp(ALICE), false).unwrap();
        }
    }

    fn far_session(&mut self) -> &mut FarSession {
        match &mut self.far {
            Far::Session(f) => f,
            _ => panic!("the far side is no bare session"),
        }
    }

    fn notifier(&mut self) -> &mut Notifier {
        match &mut self.far {
            Far::Notifier(n) => n,
            _ => panic!("the far side is no notifier"),
        }
    }

    fn deliver(&mut self, from_alice: bool, bytes: bytes::Bytes) {
        let message = Message::parse(bytes).expect("what goes on the wire parses");
        self.wire.push((from_alice, message.clone()));
        if matches!(self.far, Far::Nobody) || (self.deaf && !from_alice) {
            return;
        }
        if from_alice {
            self.far_layer.handle_incoming(self.now, message, udp(ALICE), false);
        } else {
            self.uac_layer.handle_incoming(self.now, message, udp(BOB), false);
        }
    }

    /// Runs every timer up to `now + by`.
    fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        loop {
            let answerer = match &self.far {
                Far::Answerer(a) => a.poll_timeout(),
                Far::Notifier(n) => n.poll_timeout(),
                _ => None,
            };
            let next =
                [self.uac_layer.poll_timeout(), self.far_layer.poll_timeout(), self.uac.poll_timeout(), answerer]
                    .into_iter()
                    .flatten()
                    .min();
            let Some(at) = next.filter(|t| *t <= until) else { break };
            self.now = self.now.max(at);
            self.uac_layer.handle_timeout(at);
            self.far_layer.handle_timeout(at);
            self.uac.handle_timeout(at);
            if let Far::Answerer(a) = &mut self.far {
                a.handle_timeout(at);
            }
            if let Far::Notifier(n) = &mut self.far {
                let notifies = n.handle_timeout(at);
                self.send_notifies(notifies);
            }
            self.pump();
        }
        self.now = until;
    }

    fn events_of(&self, call: Handle) -> Vec<CallEvent> {
        self.events.iter().filter(|(c, _)| *c == call).map(|(_, e)| e.clone()).collect()
    }

    fn sent_by_alice(&self, method: &Method) -> Vec<Request> {
        self.wire
            .iter()
            .filter_map(|(alice, m)| match m {
                Message::Request(r) if *alice && r.method == *method => Some(r.clone()),
                _ => None,
            })
            .collect()
    }
}

#[test]
fn a_call_is_answered_held_resumed_and_hung_up() {
    let mut net = Net::new(Net::answerer(AnswerPolicy::default()));
    let call = net.uac.call(net.now, net.peer("sip:bob@192.0.2.2:5090")).unwrap();
    net.pump();
    let events = net.events_of(call);
    let Some(CallEvent::Answered(Some(remote))) = events.last() else { panic!("not answered: {events:?}") };
    assert!(remote.to_string().contains("PCMU"), "the answer names PCMU: {remote}");
    assert_eq!(net.sent_by_alice(&Method::ACK).len(), 1, "the 2xx is acknowledged");
    let invite = &net.sent_by_alice(&Method::INVITE)[0];
    assert!(invite.headers.supports("100rel") && invite.headers.supports("timer"));
    assert!(invite.headers.contact().next().is_some());

    net.uac.hold(net.now, call).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Held));
    let reinvite = net.sent_by_alice(&Method::INVITE).pop().unwrap();
    let offer = sip_sdp::SessionDescription::parse(reinvite.body.clone()).unwrap();
    assert_eq!(offer.media_direction(0), Direction::SendOnly, "hold offers sendonly");
    assert_eq!(net.uac.remote_description(call).unwrap().media_direction(0), Direction::RecvOnly);

    net.uac.resume(net.now, call).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Resumed));
    assert_eq!(net.sent_by_alice(&Method::ACK).len(), 3, "every 2xx to an INVITE is acknowledged");

    net.uac.hangup(net.now, call).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Ended(CallEnd::HungUp)));
    assert_eq!(net.reports.len(), 1);
    assert_eq!(net.reports[0].ended, EndReason::ByeReceived);
    assert!(net.reports[0].answered);
    // Once the INVITE transactions are done, nothing of the call is left.
    net.advance(Duration::from_secs(40));
    assert_eq!(net.uac.outstanding(), 0);
    assert_eq!(net.uac.poll_timeout(), None);
}

#[test]
fn an_answered_call_takes_new_offers_dtmf_and_a_refused_transfer() {
    let mut net = Net::new(Net::answerer(AnswerPolicy::default()));
    let call = net.uac.call(net.now, net.peer("sip:bob@192.0.2.2:5090")).unwrap();
    net.pump();
    let offer = "v=0\r\no=alice 7 7 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
                 m=audio 41000 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n";
    let offer = sip_sdp::SessionDescription::parse(bytes::Bytes::from(offer)).unwrap();
    net.uac.update(net.now, call, offer.clone()).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Renegotiated));
    assert_eq!(net.sent_by_alice(&Method::UPDATE).len(), 1);
    let remote = net.uac.remote_description(call).unwrap().to_string();
    assert!(remote.contains("PCMA") && !remote.contains("PCMU"), "the answer takes the new offer: {remote}");
    let mut again = offer;
    again.origin.session_version += 1;
    net.uac.reinvite(net.now, call, again).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Renegotiated));
    assert_eq!(net.sent_by_alice(&Method::INVITE).len(), 2);

    net.uac.send_dtmf_info(net.now, call, '5', Duration::from_millis(160)).unwrap();
    net.pump();
    let info = net.sent_by_alice(&Method::INFO).pop().unwrap();
    assert_eq!(&info.body[..], b"Signal=5\r\nDuration=160\r\n");
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Renegotiated), "the INFO is taken");
    assert!(net.uac.send_dtmf_info(net.now, call, 'x', Duration::from_millis(160)).is_err());

    // The answering UAS takes no transfer (405, it knows the method): the REFER fails,
    // the call goes on.
    net.uac.refer(net.now, call, &"sip:carol@192.0.2.3".parse().unwrap()).unwrap();
    net.pump();
    let refer = net.sent_by_alice(&Method::REFER).pop().unwrap();
    assert!(refer.headers.contains(&HeaderName::REFER_TO));
    assert_eq!(
        net.events_of(call).last(),
        Some(&CallEvent::RequestFailed { method: Method::REFER, status: StatusCode::METHOD_NOT_ALLOWED })
    );
    net.uac.hangup(net.now, call).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Ended(CallEnd::HungUp)));
}

#[test]
fn a_transfer_the_peer_asks_for_is_accepted_and_told_how_it_went() {
    let mut net = Net::new(Far::Session(Box::default()));
    let call = net.uac.call(net.now, net.peer("sip:bob@192.0.2.2:5090")).unwrap();
    net.pump();
    assert!(matches!(net.events_of(call).last(), Some(CallEvent::Answered(_))), "{:?}", net.events_of(call));
    assert!(net.uac.transfer_progress(net.now, call, StatusCode::OK).is_err(), "no transfer asked for yet");

    // Bob transfers Alice to Carol.
    let carol: sip_message::Uri = "sip:carol@192.0.2.3".parse().unwrap();
    net.far_session().session().refer(&carol).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::TransferRequested { target: carol.clone() }));
    let accepted = net.wire.iter().find_map(|(alice, m)| match m {
        Message::Response(r) if *alice && r.headers.cseq().unwrap().unwrap().method == Method::REFER => Some(r.clone()),
        _ => None,
    });
    assert_eq!(accepted.expect("the REFER is answered").status, StatusCode::ACCEPTED);
    let trying = net.sent_by_alice(&Method::NOTIFY);
    assert_eq!(trying.len(), 1);
    assert_eq!(&trying[0].body[..], b"SIP/2.0 100 Trying\r\n");
    let first_progress = SessionEvent::ReferProgress { status: StatusCode::TRYING, done: false };
    assert_eq!(net.far_session().events.last(), Some(&first_progress));

    // Alice's call to Carol is answered: the last NOTIFY says so, and ends the transfer.
    net.uac.transfer_progress(net.now, call, StatusCode::OK).unwrap();
    net.pump();
    let last_progress = SessionEvent::ReferProgress { status: StatusCode::OK, done: true };
    assert_eq!(net.far_session().events.last(), Some(&last_progress));
    assert!(net.uac.transfer_progress(net.now, call, StatusCode::OK).is_err(), "the transfer is over");
    assert!(
        !net.events_of(call).iter().any(|e| matches!(e, CallEvent::RequestFailed { .. })),
        "every NOTIFY is taken: {:?}",
        net.events_of(call)
    );
    net.uac.hangup(net.now, call).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Ended(CallEnd::HungUp)));
}

#[test]
fn a_rejected_call_ends_with_its_status() {
    let policy = AnswerPolicy { reject: Some(StatusCode::BUSY_HERE), ..AnswerPolicy::default() };
    let mut net = Net::new(Net::answerer(policy));
    let call = net.uac.call(net.now, net.peer("sip:bob@192.0.2.2:5090")).unwrap();
    net.pump();
    assert_eq!(
        net.events_of(call).last(),
        Some(&CallEvent::Ended(CallEnd::Failed(UacError::Rejected(StatusCode::BUSY_HERE))))
    );
    assert!(net.sent_by_alice(&Method::ACK).len() == 1, "the transaction acknowledges the 486");
    assert!(net.uac.hold(net.now, call).is_err(), "no hold on a call that was not answered");
}

#[test]
fn hanging_up_while_ringing_cancels_the_invite() {
    let policy = AnswerPolicy { ring: Some(Duration::from_secs(10)), ..AnswerPolicy::default() };
    let mut net = Net::new(Net::answerer(policy));
    let call = net.uac.call(net.now, net.peer("sip:bob@192.0.2.2:5090")).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Ringing));
    net.uac.hangup(net.now, call).unwrap();
    net.pump();
    let cancels = net.sent_by_alice(&Method::CANCEL);
    assert_eq!(cancels.len(), 1);
    let invite = &net.sent_by_alice(&Method::INVITE)[0];
    assert_eq!(
        cancels[0].headers.top_via().unwrap().unwrap().branch(),
        invite.headers.top_via().unwrap().unwrap().branch()
    );
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Ended(CallEnd::HungUp)));
    assert_eq!(net.reports[0].ended, EndReason::Cancelled);
    assert!(!net.events_of(call).iter().any(|e| matches!(e, CallEvent::Answered(_))));
}

#[test]
fn a_cancel_that_gets_no_answer_ends_the_invite_after_64_t1() {
    // The callee rings, then goes silent: the CANCEL and the INVITE get nothing more.
    let policy = AnswerPolicy { ring: Some(Duration::from_secs(600)), ..AnswerPolicy::default() };
    let mut net = Net::new(Net::answerer(policy));
    let call = net.uac.call(net.now, net.peer("sip:bob@192.0.2.2:5090")).unwrap();
    net.pump();
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Ringing));
    net.deaf = true;
    net.uac.hangup(net.now, call).unwrap();
    net.pump();
    assert_eq!(net.sent_by_alice(&Method::CANCEL).len(), 1);
    net.advance(Duration::from_secs(31));
    assert_eq!(net.abandoned, 0, "64·T1 not over yet");
    net.advance(Duration::from_secs(2));
    assert_eq!(net.abandoned, 1, "§9.1: the INVITE is taken as cancelled");
    assert_eq!(net.events_of(call).last(), Some(&CallEvent::Ended(CallEnd::HungUp)));
    assert_eq!(net.uac.outstanding(), 0);
    assert_eq!(net.uac.poll_timeout(), None);
    assert_eq!(net.uac_layer.len(), 0, "the layer keeps neither the INVITE nor the CANCEL");
}

#[test]
fn a_call_nobody_answers_times_out() {
    let mut net = Net::new(Far::Nobody);
    let call = net.uac.call(net.now, net.peer("sip:bob@192.0.2.2:5090")).unwrap();
    net.pump();
    net.advance(Duration::from_secs(31));
    assert!(net.events_of(call).is_empty(), "Timer B is 64·T1: no verdict before it");
    net.advance(Duration::from_secs(2));
    assert_eq!(net.events_of(call), vec![CallEvent::Ended(CallEnd::Failed(UacError::Timeout))]);
    assert!(net.sent_by_alice(&Method::INVITE).len() > 5, "the INVITE is sent again over UDP");
    assert_eq!(net.uac.outstanding(), 0);
}

#[test]
fn options_and_message_get_their_final_responses() {
    let mut net = Net::new(Net::answerer(AnswerPolicy::default()));
    let peer = net.peer("sip:bob@192.0.2.2:5090");
    net.uac.request(net.now, Method::OPTIONS, peer.clone(), None).unwrap();
    let body = Some((MediaType::new("text", "plain").unwrap(), bytes::Bytes::from_static(b"hello")));
    net.uac.request(net.now, Method::MESSAGE, peer, body).unwrap();
    net.pump();
    let statuses: Vec<u16> = net.responses.iter().map(|r| r.as_ref().unwrap().status.as_u16()).collect();
    assert_eq!(statuses, [200, 200]);
    let message = net.sent_by_alice(&Method::MESSAGE).pop().unwrap();
    assert_eq!(&message.body[..], b"hello");
    assert!(net.uac.request(net.now, Method::INVITE, net.peer("sip:bob@192.0.2.2"), None).is_err());
    assert_eq!(net.uac.outstanding(), 0);
}

fn registrar(min_expires: u32, max_expires: u32) -> Far {
    Far::Registrar(Box::new(Registrar::new(min_expires, max_expires)))
}

fn registers(net: &Net) -> &[Request] {
    match &net.far {
        Far::Registrar(r) => &r.registers,
        _ => &[],
    }
}

#[test]
fn a_registration_answers_the_challenge_refreshes_and_unregisters() {
    let mut net = Net::new(registrar(60, 120));
    let mut peer = net.peer("sip:example.com");
    peer.credentials = Some(DigestClient::new("alice", "wonderland"));
    let aor = NameAddr::new("sip:alice@example.com".parse::<sip_message::Uri>().unwrap());
    let contact = NameAddr::new("sip:alice@192.0.2.1:5060".parse::<sip_message::Uri>().unwrap())
        .with_param("+sip.instance", Some("\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\""))
        .unwrap()
        .with_param("reg-id", Some("1"))
        .unwrap();
    let registration = net.uac.register(net.now, peer, aor, contact, 3600).unwrap();
    net.pump();
    assert_eq!(net.registration, vec![RegistrationEvent::Registered { expires: 120 }]);
    let sent = registers(&net).to_vec();
    assert_eq!(sent.len(), 2, "one challenged, one with credentials");
    assert!(sent[1].headers.contains(&HeaderName::AUTHORIZATION));
    let seqs: Vec<u32> = sent.iter().map(|r| r.headers.cseq().unwrap().unwrap().seq).collect();
    assert_eq!(seqs, [1, 2]);
    let call_ids: Vec<_> = sent.iter().map(|r| r.headers.call_id().unwrap().unwrap()).collect();
    assert_eq!(call_ids[0], call_ids[1], "one Call-ID for every REGISTER of a binding");
    let contact = sent[1].headers.contact().next().unwrap().unwrap();
    assert!(contact.address().unwrap().params().value("reg-id").is_some());

    // Refreshed half-way through the 120 s granted, with credentials for the last
    // challenge and the next nonce count: accepted at once.
    net.advance(Duration::from_secs(59));
    assert_eq!(registers(&net).len(), 2);
    net.advance(Duration::from_secs(2));
    assert_eq!(registers(&net).len(), 3);
    assert_eq!(net.registration.len(), 2);
    let refresh = registers(&net)[2].clone();
    let authorization = refresh.headers.typed::<Authorization>().unwrap().unwrap();
    assert_eq!(&authorization.0.params.get("nc").unwrap()[..], b"00000002");

    net.uac.unregister(net.now, registration).unwrap();
    net.pump();
    assert_eq!(net.registration.last(), Some(&RegistrationEvent::Unregistered));
    let last = registers(&net).last().unwrap();
    assert_eq!(last.headers.expires().unwrap().unwrap().0, 0);
    assert_eq!(net.uac.outstanding(), 0);
    assert_eq!(net.uac.poll_timeout(), None);
}

#[test]
fn a_registration_takes_min_expires_and_fails_on_a_wrong_password() {
    let mut net = Net::new(registrar(300, 3600));
    let mut peer = net.peer("sip:example.com");
    peer.credentials = Some(DigestClient::new("alice", "wonderland"));
    let aor = NameAddr::new("sip:alice@example.com".parse::<sip_message::Uri>().unwrap());
    let contact = NameAddr::new("sip:alice@192.0.2.1:5060".parse::<sip_message::Uri>().unwrap());
    net.uac.register(net.now, peer.clone(), aor.clone(), contact.clone(), 60).unwrap();
    net.pump();
    assert_eq!(net.registration, vec![RegistrationEvent::Registered { expires: 300 }], "423 asks for 300 s");

    let mut net = Net::new(registrar(60, 3600));
    peer.credentials = Some(DigestClient::new("alice", "looking-glass"));
    net.uac.register(net.now, peer, aor, contact, 600).unwrap();
    net.pump();
    let [RegistrationEvent::Failed(UacError::AuthFailed(_))] = net.registration.as_slice() else {
        panic!("a refused password is an auth failure: {:?}", net.registration);
    };
    assert_eq!(registers(&net).len(), 2, "credentials refused once are not sent again");
}

#[test]
fn a_challenge_without_credentials_is_a_rejection() {
    let mut net = Net::new(registrar(60, 3600));
    net.uac.request(net.now, Method::OPTIONS, net.peer("sip:example.com"), None).unwrap();
    net.pump();
    let [Ok(response)] = net.responses.as_slice() else { panic!("{:?}", net.responses) };
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
}

fn notifier(challenges: bool) -> Far {
    Far::Notifier(Box::new(Notifier::new("sip:presence@192.0.2.2:5090".parse().unwrap(), challenges)))
}

fn presence(status: &str) -> SubscriptionEvent {
    let (kind, body) = Notifier::presence(status).unwrap();
    SubscriptionEvent::Notified { state: SubscriptionState::Active, body: Some((kind, body)) }
}

#[test]
fn a_subscription_is_challenged_notified_refreshed_and_ended() {
    let mut net = Net::new(notifier(true));
    let mut peer = net.peer("sip:bob@192.0.2.2:5090");
    peer.credentials = Some(DigestClient::new("alice", "wonderland"));
    let pidf = MediaType::new("application", "pidf+xml").unwrap();
    let subscription = net.uac.subscribe(net.now, peer, "presence", 3600, Some(pidf)).unwrap();
    net.pump();
    // 401, then the 200 granting the notifier's longest, 600 s, and the first NOTIFY.
    assert_eq!(net.subscription, [SubscriptionEvent::Accepted { expires: 600 }, presence("open")]);
    let subscribes = net.notifier().subscribes.clone();
    assert_eq!(subscribes.len(), 2);
    assert!(subscribes[1].headers.contains(&HeaderName::AUTHORIZATION));
    assert!(subscribes[1].headers.contains(&HeaderName::ACCEPT));
    let notify_ok = net.wire.iter().rev().find_map(|(alice, m)| match m {
        Message::Response(r) if *alice => Some(r.clone()),
        _ => None,
    });
    assert_eq!(notify_ok.unwrap().status, StatusCode::OK, "the NOTIFY is answered 200");

    let now = net.now;
    let notifies = net.notifier().change(now, "closed");
    net.send_notifies(notifies);
    net.pump();
    assert_eq!(net.subscription.last(), Some(&presence("closed")));

    // A minute before the 600 s run out: a refresh in the dialog, with credentials for
    // the challenge answered and the next nonce count; the notifier grants it again.
    net.advance(Duration::from_secs(539));
    assert_eq!(net.notifier().subscribes.len(), 2);
    net.advance(Duration::from_secs(2));
    let subscribes = net.notifier().subscribes.clone();
    assert_eq!(subscribes.len(), 3);
    let refresh = &subscribes[2];
    assert!(refresh.headers.to().unwrap().unwrap().tag().is_some(), "the refresh goes in the dialog");
    let authorization = refresh.headers.typed::<Authorization>().unwrap().unwrap();
    assert_eq!(&authorization.0.params.get("nc").unwrap()[..], b"00000002");
    assert_eq!(net.notifier().active(), 1);

    net.uac.unsubscribe(net.now, subscription).unwrap();
    net.pump();
    let last = net.notifier().subscribes.last().unwrap().clone();
    assert_eq!(last.headers.expires().unwrap().unwrap().0, 0);
    let Some(SubscriptionEvent::Terminated(Some(reason))) = net.subscription.last() else {
        panic!("the final NOTIFY ends it: {:?}", net.subscription);
    };
    assert_eq!(reason, "timeout");
    assert_eq!(net.notifier().active(), 0);
    assert_eq!(net.uac.outstanding(), 0);
    assert_eq!(net.uac.poll_timeout(), None);
}

#[test]
fn a_refresh_challenged_for_a_stale_nonce_goes_again_with_credentials_for_the_new_one() {
    let mut net = Net::new(notifier(true));
    net.notifier().challenge_refreshes = true;
    let mut peer = net.peer("sip:bob@192.0.2.2:5090");
    peer.credentials = Some(DigestClient::new("alice", "wonderland"));
    net.uac.subscribe(net.now, peer, "presence", 3600, None).unwrap();
    net.pump();
    assert_eq!(net.subscription, [SubscriptionEvent::Accepted { expires: 600 }, presence("open")]);
    // By the refresh, the nonce answered at first has run out at the notifier.
    net.notifier().clock += sip_auth::DEFAULT_NONCE_LIFETIME + Duration::from_secs(1);
    net.advance(Duration::from_secs(541));
    let subscribes = net.notifier().subscribes.clone();
    assert_eq!(subscribes.len(), 4, "the first SUBSCRIBE, its answer to the 401, the refresh and it again");
    let nonce = |r: &Request| {
        let a = r.headers.typed::<Authorization>().unwrap().unwrap();
        String::from_utf8(a.0.params.get("nonce").unwrap().to_vec()).unwrap()
    };
    assert_eq!(nonce(&subscribes[2]), nonce(&subscribes[1]), "the refresh carries the nonce it knew");
    assert_ne!(nonce(&subscribes[3]), nonce(&subscribes[2]), "sent again for the new nonce");
    let challenge = net.wire.iter().find_map(|(alice, m)| match m {
        Message::Response(r)
            if !*alice
                && r.status == StatusCode::UNAUTHORIZED
                && r.headers.to_tag().unwrap().unwrap().is_some_and(|t| t.starts_with(b"notifier")) =>
        {
            Some(r.clone())
        }
        _ => None,
    });
    let stale = challenge
        .expect("the refresh was challenged")
        .headers
        .get(&HeaderName::WWW_AUTHENTICATE)
        .unwrap()
        .value()
        .clone();
    assert!(String::from_utf8_lossy(&stale).contains("stale=true"), "{stale:?}");
    assert_eq!(subscribes[3].headers.to().unwrap().unwrap().tag(), Some("notifier0"), "still in the dialog");
    // Granted again: the subscription goes on, nothing ended.
    assert_eq!(net.notifier().active(), 1);
    assert!(!net.subscription.iter().any(|e| matches!(e, SubscriptionEvent::Terminated(_))), "{:?}", net.subscription);
}

#[test]
fn a_notify_before_the_2xx_makes_the_subscription() {
    let mut far = Notifier::new("sip:presence@192.0.2.2:5090".parse().unwrap(), false);
    far.notify_first = true;
    let mut net = Net::new(Far::Notifier(Box::new(far)));
    let peer = net.peer("sip:bob@192.0.2.2:5090");
    net.uac.subscribe(net.now, peer, "presence", 300, None).unwrap();
    net.pump();
    assert_eq!(net.subscription, [presence("open"), SubscriptionEvent::Accepted { expires: 300 }]);
    let statuses: Vec<u16> = net
        .wire
        .iter()
        .filter_map(|(alice, m)| match m {
            Message::Response(r) if *alice => Some(r.status.as_u16()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses, [200], "the early NOTIFY is taken in the dialog it makes");
    // Refreshed a minute before the 300 s run out, in the dialog the NOTIFY made.
    net.advance(Duration::from_secs(260));
    assert_eq!(net.notifier().subscribes.len(), 2, "refreshed a minute before the expiry");
}

#[test]
fn a_refused_subscription_fails_with_its_status() {
    let mut net = Net::new(Net::answerer(AnswerPolicy::default()));
    let peer = net.peer("sip:bob@192.0.2.2:5090");
    net.uac.subscribe(net.now, peer.clone(), "presence", 300, None).unwrap();
    net.pump();
    assert_eq!(net.subscription, [SubscriptionEvent::Failed(UacError::Rejected(StatusCode::METHOD_NOT_ALLOWED))]);
    assert!(net.uac.subscribe(net.now, peer, "no spaces allowed", 300, None).is_err());
    assert_eq!(net.uac.outstanding(), 0);
}
