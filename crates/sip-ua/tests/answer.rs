//! The answering UAS over a real transaction layer, on virtual time: what a caller sees
//! for an answered call, a ringing call it cancels, a rejected one, a 2xx never
//! acknowledged, and the requests outside any call; asking the application about calls
//! and requests, answered with any status or by default when it is silent; the
//! subscriptions it accepts, served as notifier (RFC 6665) until they end.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_dialog::{EndReason, Entropy, SessionConfig, SubscriptionConfig};
use sip_message::header::MediaType;
use sip_message::header::Transport as TransportName;
use sip_message::{Header, HeaderName, Message, Method, Request, Response, StatusCode, Uri};
use sip_sdp::SessionDescription;
use sip_transaction::{Config, TransactionLayer};
use sip_transport::Target;
use sip_ua::answer::{
    Action, AnswerPolicy, Answerer, CallHandle, CallReport, RequestHandle, SubscriptionHandle, SubscriptionRefused,
};

#[derive(Debug, Default)]
struct Counter(u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// An answerer behind its transaction layer, the caller at 192.0.2.1:5060 over UDP.
struct Uas {
    layer: TransactionLayer<Target>,
    answerer: Answerer<Counter>,
    peer: Target,
    reports: Vec<CallReport>,
    /// With the `ask` policy: the calls and requests left to the application.
    offered: Vec<CallHandle>,
    asked: Vec<(RequestHandle, Request)>,
    /// With the `ask` policy: the transfers the peers asked for.
    transfers: Vec<(CallHandle, Uri)>,
    /// The subscriptions served that ended, with why.
    ended: Vec<(SubscriptionHandle, Option<String>)>,
}

impl Uas {
    fn new(policy: AnswerPolicy) -> Self {
        let session = SessionConfig { session_expires: None, ..SessionConfig::default() };
        let answerer = Answerer::with_entropy(
            policy,
            "sip:sipkit@192.0.2.2:5090".parse().unwrap(),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            session,
            Counter::default(),
        );
        let peer = Target::new(TransportName::UDP, SocketAddr::from(([192, 0, 2, 1], 5060)));
        Self {
            layer: TransactionLayer::new(Config::default()),
            answerer,
            peer,
            reports: Vec::new(),
            offered: Vec::new(),
            asked: Vec::new(),
            transfers: Vec::new(),
            ended: Vec::new(),
        }
    }

    /// Carries events up and actions down until both sides are quiet; returns what went
    /// on the wire, as the caller reads it.
    fn pump(&mut self, now: Instant) -> Vec<Message> {
        loop {
            let mut busy = false;
            while let Some(event) = self.layer.poll_event() {
                self.answerer.handle_event(now, event);
                busy = true;
            }
            while let Some(action) = self.answerer.poll_action() {
                busy = true;
                match action {
                    Action::Respond { key, response } => {
                        self.layer.send_response(now, &key, response).expect("the transaction takes the response");
                    }
                    Action::Request { dialog, request, target } => {
                        let key = self.layer.send_request(now, request.clone(), target, false).expect("sent");
                        self.answerer.request_sent(dialog, request, key);
                    }
                    Action::SubscriptionEnded { subscription, reason } => self.ended.push((subscription, reason)),
                    Action::Report(report) => self.reports.push(report),
                    Action::Offered { call, .. } => self.offered.push(call),
                    Action::Asked { handle, request } => self.asked.push((handle, *request)),
                    Action::TransferRequested { call, target } => self.transfers.push((call, target)),
                }
            }
            if !busy {
                break;
            }
        }
        std::iter::from_fn(|| self.layer.poll_transmit())
            .map(|t| {
                assert_eq!(t.to.remote, self.peer.remote);
                Message::parse(t.bytes).expect("what the answerer sends parses")
            })
            .collect()
    }

    /// The peer answers `request` (one the answerer sent) with `status`.
    fn answer(&mut self, now: Instant, request: &Request, status: StatusCode) -> Vec<Message> {
        let response = Response::from_request(request, status);
        self.layer.handle_incoming(now, Message::Response(response), self.peer.clone(), false);
        self.pump(now)
    }

    fn receive(&mut self, now: Instant, text: &str) -> Vec<Message> {
        let message = Message::parse(Bytes::from(text.replace('\n', "\r\n"))).expect("test message parses");
        self.layer.handle_incoming(now, message, self.peer.clone(), false);
        self.pump(now)
    }

    /// Runs the timers of both layers up to `until`; everything sent, with when.
    fn advance(&mut self, until: Instant) -> Vec<(Instant, Message)> {
        let mut sent = Vec::new();
        loop {
            let next = [self.layer.poll_timeout(), self.answerer.poll_timeout()].into_iter().flatten().min();
            let Some(at) = next.filter(|t| *t <= until) else { break };
            self.layer.handle_timeout(at);
            self.answerer.handle_timeout(at);
            sent.extend(self.pump(at).into_iter().map(|m| (at, m)));
        }
        sent
    }
}

const OFFER: &str = "v=0
o=alice 1 1 IN IP4 192.0.2.1
s=-
c=IN IP4 192.0.2.1
t=0 0
m=audio 30000 RTP/AVP 8 0 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
";

fn invite(call: &str, branch: &str) -> String {
    let body = OFFER.replace('\n', "\r\n");
    format!(
        "INVITE sip:bob@192.0.2.2:5090 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}
Max-Forwards: 70
From: Alice <sip:alice@192.0.2.1>;tag=a1
To: <sip:bob@192.0.2.2>
Call-ID: {call}
CSeq: 1 INVITE
Contact: <sip:alice@192.0.2.1:5060>
Content-Type: application/sdp
Content-Length: {}

{}",
        body.len(),
        OFFER.trim_end_matches('\n')
    )
    // The body's own line ends are put back by `receive`.
    + "\n"
}

/// The CANCEL of the INVITE `invite(call, branch)` sent.
fn cancel(call: &str, branch: &str) -> String {
    format!(
        "CANCEL sip:bob@192.0.2.2:5090 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}
Max-Forwards: 70
From: Alice <sip:alice@192.0.2.1>;tag=a1
To: <sip:bob@192.0.2.2>
Call-ID: {call}
CSeq: 1 CANCEL
Content-Length: 0

"
    )
}

fn in_dialog(method: &str, call: &str, to_tag: &str, seq: u32, branch: &str) -> String {
    format!(
        "{method} sip:sipkit@192.0.2.2:5090 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}
Max-Forwards: 70
From: Alice <sip:alice@192.0.2.1>;tag=a1
To: <sip:bob@192.0.2.2>;tag={to_tag}
Call-ID: {call}
CSeq: {seq} {method}
Content-Length: 0

"
    )
}

fn response(m: &Message) -> &Response {
    match m {
        Message::Response(r) => r,
        Message::Request(r) => panic!("expected a response, got {}", r.method),
    }
}

fn statuses(out: &[Message]) -> Vec<u16> {
    out.iter().map(|m| response(m).status.as_u16()).collect()
}

fn to_tag(r: &Response) -> String {
    r.headers.to().unwrap().unwrap().tag().expect("a To tag").to_owned()
}

#[test]
fn a_call_is_answered_with_sdp_and_ended_by_bye() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy::default());
    let out = uas.receive(t0, &invite("c1@192.0.2.1", "z9hG4bKi1"));
    assert_eq!(statuses(&out), [200]);
    let ok = response(&out[0]);
    let tag = to_tag(ok);
    assert_eq!(
        ok.headers.contact().next().unwrap().unwrap().address().unwrap().uri().to_string(),
        "sip:sipkit@192.0.2.2:5090"
    );
    // The answer keeps the offer's order and payload types, on the answerer's address.
    let answer = SessionDescription::parse(ok.body.clone()).expect("an SDP answer");
    let formats: Vec<&str> = answer.media[0].formats.iter().map(|f| f.as_str()).collect();
    assert_eq!(formats, ["8", "0", "101"]);
    assert_eq!(answer.connection.as_ref().unwrap().address.to_string(), "192.0.2.2");
    assert_eq!(uas.answerer.calls(), 1);

    // The ACK stops the 2xx retransmissions: nothing more goes out.
    let ack = in_dialog("ACK", "c1@192.0.2.1", &tag, 1, "z9hG4bKa1");
    assert!(uas.receive(t0 + Duration::from_millis(100), &ack).is_empty());
    assert!(uas.advance(t0 + Duration::from_secs(10)).is_empty());

    let bye = in_dialog("BYE", "c1@192.0.2.1", &tag, 2, "z9hG4bKb1");
    let out = uas.receive(t0 + Duration::from_secs(11), &bye);
    assert_eq!(statuses(&out), [200]);
    assert_eq!(response(&out[0]).headers.cseq().unwrap().unwrap().method, Method::BYE);
    assert_eq!(uas.answerer.calls(), 0);
    assert_eq!(uas.reports.len(), 1);
    let report = &uas.reports[0];
    assert_eq!((report.call_id.as_str(), report.from.as_str()), ("c1@192.0.2.1", "sip:alice@192.0.2.1"));
    assert!(report.answered);
    assert_eq!(report.ended, EndReason::ByeReceived);

    // A second BYE finds no dialog.
    let out = uas.receive(t0 + Duration::from_secs(12), &in_dialog("BYE", "c1@192.0.2.1", &tag, 3, "z9hG4bKb2"));
    assert_eq!(statuses(&out), [481]);
}

#[test]
fn a_ringing_call_answers_after_the_delay_or_ends_on_cancel() {
    let t0 = Instant::now();
    let ring = AnswerPolicy { ring: Some(Duration::from_secs(2)), ..AnswerPolicy::default() };
    let mut uas = Uas::new(ring.clone());
    let out = uas.receive(t0, &invite("c2@192.0.2.1", "z9hG4bKi2"));
    assert_eq!(statuses(&out), [180]);
    let sent = uas.advance(t0 + Duration::from_secs(3));
    let answered: Vec<(Duration, u16)> = sent.iter().map(|(at, m)| (*at - t0, response(m).status.as_u16())).collect();
    // The 200 at the end of the ring delay, then again at T1 for want of an ACK.
    assert_eq!(answered[0], (Duration::from_secs(2), 200));
    assert_eq!(answered[1], (Duration::from_millis(2500), 200));

    let mut uas = Uas::new(ring);
    let out = uas.receive(t0, &invite("c3@192.0.2.1", "z9hG4bKi3"));
    assert_eq!(statuses(&out), [180]);
    let out = uas.receive(t0 + Duration::from_secs(1), &cancel("c3@192.0.2.1", "z9hG4bKi3"));
    let answers: Vec<(u16, Method)> = out
        .iter()
        .map(|m| (response(m).status.as_u16(), response(m).headers.cseq().unwrap().unwrap().method))
        .collect();
    assert_eq!(answers, [(200, Method::CANCEL), (487, Method::INVITE)]);
    // The ring delay no longer answers the cancelled INVITE.
    let later: Vec<u16> =
        uas.advance(t0 + Duration::from_secs(3)).iter().map(|(_, m)| response(m).status.as_u16()).collect();
    assert!(later.iter().all(|s| *s == 487), "only 487 retransmissions, got {later:?}");
    assert_eq!(uas.reports.len(), 1);
    assert!(!uas.reports[0].answered);
    assert_eq!(uas.reports[0].ended, EndReason::Cancelled);
}

/// §13.3.1: an invitation that expires (its `Expires`) before a final response is
/// answered 487, whoever was to answer it: the application asked, or the ring delay.
#[test]
fn an_invitation_expiring_before_its_answer_gets_487() {
    let t0 = Instant::now();
    let expiring = |call: &str, branch: &str, seconds: u32| {
        invite(call, branch).replacen("CSeq: 1 INVITE\n", &format!("CSeq: 1 INVITE\nExpires: {seconds}\n"), 1)
    };
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    assert!(statuses(&uas.receive(t0, &expiring("e1@192.0.2.1", "z9hG4bKe1", 5))).iter().all(|s| *s == 100));
    assert_eq!(uas.offered.len(), 1);
    let before: Vec<u16> =
        uas.advance(t0 + Duration::from_millis(4999)).iter().map(|(_, m)| response(m).status.as_u16()).collect();
    assert!(before.iter().all(|s| *s == 100), "nothing final before it expires: {before:?}");
    let sent = uas.advance(t0 + Duration::from_secs(5));
    let finals: Vec<(Instant, u16)> = sent.iter().map(|(at, m)| (*at, response(m).status.as_u16())).collect();
    assert_eq!(finals, [(t0 + Duration::from_secs(5), 487)]);
    assert!(uas.answerer.accept(t0 + Duration::from_secs(6), uas.offered[0]).is_err(), "too late to accept");
    assert_eq!(uas.reports.len(), 1);
    assert!(!uas.reports[0].answered);

    // Ringing for longer than the invitation lasts: 487 at its end, never the 200.
    let mut uas = Uas::new(AnswerPolicy { ring: Some(Duration::from_secs(10)), ..AnswerPolicy::default() });
    assert_eq!(statuses(&uas.receive(t0, &expiring("e2@192.0.2.1", "z9hG4bKe2", 3))), [180]);
    let sent = uas.advance(t0 + Duration::from_secs(12));
    let first = sent.first().map(|(at, m)| (*at, response(m).status.as_u16()));
    assert_eq!(first, Some((t0 + Duration::from_secs(3), 487)));
    assert!(sent.iter().all(|(_, m)| response(m).status.as_u16() == 487), "no 200 after the 487");

    // Answered in time, the expiry does nothing: no 487 after the 200.
    let mut uas = Uas::new(AnswerPolicy::default());
    assert_eq!(statuses(&uas.receive(t0, &expiring("e3@192.0.2.1", "z9hG4bKe3", 1))), [200]);
    let later = uas.advance(t0 + Duration::from_secs(2));
    assert!(later.iter().all(|(_, m)| response(m).status.as_u16() == 200), "only 200 retransmissions");
}

#[test]
fn a_rejecting_policy_rejects_and_a_cancel_of_nothing_gets_481() {
    let t0 = Instant::now();
    let policy = AnswerPolicy { reject: Some(StatusCode::BUSY_HERE), ..AnswerPolicy::default() };
    let mut uas = Uas::new(policy);
    let out = uas.receive(t0, &invite("c4@192.0.2.1", "z9hG4bKi4"));
    assert_eq!(statuses(&out), [486]);
    assert_eq!(uas.answerer.calls(), 0);
    assert_eq!(uas.reports[0].ended, EndReason::Rejected(StatusCode::BUSY_HERE));

    assert_eq!(statuses(&uas.receive(t0, &cancel("c5@192.0.2.1", "z9hG4bKnone"))), [481]);
}

#[test]
fn a_2xx_never_acknowledged_ends_the_call_with_bye_at_64_t1() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy::default());
    let out = uas.receive(t0, &invite("c6@192.0.2.1", "z9hG4bKi6"));
    assert_eq!(statuses(&out), [200]);
    let sent = uas.advance(t0 + Duration::from_secs(40));
    let oks: Vec<Duration> = sent
        .iter()
        .filter(|(_, m)| matches!(m, Message::Response(r) if r.status == StatusCode::OK))
        .map(|(at, _)| *at - t0)
        .collect();
    let ms: Vec<u64> = oks.iter().map(|d| u64::try_from(d.as_millis()).unwrap()).collect();
    assert_eq!(ms, [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    let byes: Vec<Duration> = sent
        .iter()
        .filter(|(_, m)| matches!(m, Message::Request(r) if r.method == Method::BYE))
        .map(|(at, _)| *at - t0)
        .collect();
    assert_eq!(byes.first(), Some(&Duration::from_secs(32)));
    let Some((_, Message::Request(bye))) = sent.iter().find(|(_, m)| matches!(m, Message::Request(_))) else {
        unreachable!()
    };
    assert_eq!(bye.uri.to_string(), "sip:alice@192.0.2.1:5060");
    assert_eq!(uas.reports[0].ended, EndReason::NoAck);
}

/// A request outside any call, from the caller, with the `extra` header lines.
fn outside_a_call(method: &str, branch: &str, extra: &str) -> String {
    format!(
        "{method} sip:bob@192.0.2.2:5090 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch={branch}
Max-Forwards: 70
From: <sip:alice@192.0.2.1>;tag=a1
To: <sip:bob@192.0.2.2>
Call-ID: {branch}@192.0.2.1
CSeq: 1 {method}
{extra}Content-Length: 0

"
    )
}

#[test]
fn requests_outside_a_call() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy::default());
    let request = outside_a_call;
    let out = uas.receive(t0, &request("OPTIONS", "z9hG4bKo1", ""));
    assert_eq!(statuses(&out), [200]);
    let allow = response(&out[0]).headers.get(&HeaderName::ALLOW).expect("Allow").value().clone();
    assert!(allow.starts_with(b"INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE"));
    assert_eq!(statuses(&uas.receive(t0, &request("MESSAGE", "z9hG4bKm1", ""))), [200]);
    assert_eq!(statuses(&uas.receive(t0, &request("BYE", "z9hG4bKb9", ""))), [481]);
    let out = uas.receive(t0, &request("PUBLISH", "z9hG4bKp1", ""));
    assert_eq!(statuses(&out), [405]);
    assert!(response(&out[0]).headers.get(&HeaderName::ALLOW).is_some());
    // A header the crate knows, malformed: 400 (the UAS runs Message::validate).
    let out = uas.receive(t0, &request("OPTIONS", "z9hG4bKo2", "Expires: soon\n"));
    assert_eq!(statuses(&out), [400]);

    // §8.2 in order: an unknown method, then the URI scheme, the option tags, the body.
    let out = uas.receive(t0, &request("FROBNICATE", "z9hG4bKx1", ""));
    assert_eq!(statuses(&out), [501]);
    assert!(response(&out[0]).headers.get(&HeaderName::ALLOW).is_some());
    let urn = request("OPTIONS", "z9hG4bKx2", "").replace("sip:bob@192.0.2.2:5090", "urn:service:sos");
    assert_eq!(statuses(&uas.receive(t0, &urn)), [416]);
    let out = uas.receive(t0, &request("OPTIONS", "z9hG4bKx3", "Require: timer, foo, bar\n"));
    assert_eq!(statuses(&out), [420]);
    let unsupported = response(&out[0]).headers.get(&HeaderName::UNSUPPORTED).expect("Unsupported").value().clone();
    assert_eq!(&unsupported[..], b"foo, bar");
    assert!(response(&out[0]).headers.to().unwrap().unwrap().tag().is_some(), "a refusal carries a To tag");
    assert_eq!(statuses(&uas.receive(t0, &request("OPTIONS", "z9hG4bKx4", "Require: 100rel\n"))), [200]);
    let xml = request("INVITE", "z9hG4bKx5", "Content-Type: application/xml\n")
        .replace("Content-Length: 0\n\n", "Content-Length: 4\n\n<a/>");
    let out = uas.receive(t0, &xml);
    assert_eq!(statuses(&out), [415]);
    assert_eq!(&response(&out[0]).headers.get(&HeaderName::ACCEPT).expect("Accept").value()[..], b"application/sdp");
    let picky =
        invite("c9@192.0.2.1", "z9hG4bKx6").replace("Max-Forwards: 70\n", "Max-Forwards: 70\nAccept: text/plain\n");
    assert_eq!(statuses(&uas.receive(t0, &picky)), [406]);
    assert_eq!(uas.answerer.calls(), 0);
}

#[test]
fn calls_beyond_the_cap_get_503() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { max_calls: 1, ..AnswerPolicy::default() });
    assert_eq!(statuses(&uas.receive(t0, &invite("c7@192.0.2.1", "z9hG4bKi7"))), [200]);
    assert_eq!(statuses(&uas.receive(t0, &invite("c8@192.0.2.1", "z9hG4bKi8"))), [503]);
    assert_eq!(uas.answerer.calls(), 1);
}

#[test]
fn asking_leaves_calls_and_requests_to_the_application() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    let request = |method: &str, branch: &str| outside_a_call(method, branch, "");
    assert!(uas.receive(t0, &request("OPTIONS", "z9hG4bKq1")).is_empty(), "left to the application");
    assert!(uas.receive(t0, &request("MESSAGE", "z9hG4bKq2")).is_empty());
    let [(options, o), (message, m)] = uas.asked.clone().try_into().unwrap();
    assert_eq!((o.method, m.method), (Method::OPTIONS, Method::MESSAGE));
    uas.answerer.answer_request(options, StatusCode::FORBIDDEN, Vec::new()).unwrap();
    let out = uas.pump(t0);
    assert_eq!(statuses(&out), [403]);
    assert!(uas.answerer.answer_request(options, StatusCode::OK, Vec::new()).is_err(), "answered once");
    assert!(uas.answerer.answer_request(message, StatusCode::RINGING, Vec::new()).is_err(), "final only");
    // The MESSAGE nobody answers gets 480 once answer_within is over.
    assert!(uas.advance(t0 + Duration::from_secs(7)).is_empty());
    let sent = uas.advance(t0 + Duration::from_secs(9));
    let statuses_sent: Vec<u16> = sent.iter().map(|(_, m)| response(m).status.as_u16()).collect();
    assert_eq!(statuses_sent, [480]);
    assert_eq!(sent[0].0, t0 + Duration::from_secs(8));

    // A call answered with any status and headers: 486 with Retry-After.
    assert!(statuses(&uas.receive(t0, &invite("c1@192.0.2.1", "z9hG4bKq3"))).iter().all(|s| *s == 100));
    let call = uas.offered[0];
    let retry_after = Header::new(HeaderName::RETRY_AFTER, "60").unwrap();
    uas.answerer.respond(t0, call, StatusCode::BUSY_HERE, vec![retry_after]).unwrap();
    let out = uas.pump(t0);
    assert_eq!(statuses(&out), [486]);
    assert_eq!(&response(&out[0]).headers.get(&HeaderName::RETRY_AFTER).unwrap().value()[..], b"60");
    assert!(uas.answerer.respond(t0, call, StatusCode::OK, Vec::new()).is_err(), "answered once");
}

#[test]
fn requests_beyond_the_asked_cap_get_their_default_answer_at_once() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, max_asked: 1, ..AnswerPolicy::default() });
    let request = |method: &str, branch: &str| outside_a_call(method, branch, "");
    assert!(uas.receive(t0, &request("MESSAGE", "z9hG4bKm1")).is_empty(), "the first waits for the application");
    assert_eq!(statuses(&uas.receive(t0, &request("MESSAGE", "z9hG4bKm2"))), [480]);
    assert_eq!(statuses(&uas.receive(t0, &request("OPTIONS", "z9hG4bKm3"))), [200]);
    assert_eq!(uas.asked.len(), 1, "only the first was left to the application");
    // Once the first is answered, the next waits again.
    let (first, _) = uas.asked[0].clone();
    uas.answerer.answer_request(first, StatusCode::OK, Vec::new()).unwrap();
    assert_eq!(statuses(&uas.pump(t0)), [200]);
    assert!(uas.receive(t0, &request("MESSAGE", "z9hG4bKm4")).is_empty());
    assert_eq!(uas.asked.len(), 2);
}

#[test]
fn asking_leaves_every_request_outside_a_dialog_to_the_application() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    // An unsolicited NOTIFY (RFC 3842) whose body is its package's, not SDP.
    let summary =
        "Event: message-summary\nSubscription-State: active\nContent-Type: application/simple-message-summary\n";
    let requests = [
        outside_a_call("SUBSCRIBE", "z9hG4bKs1", "Event: presence\nExpires: 600\n"),
        outside_a_call("NOTIFY", "z9hG4bKs2", summary)
            .replace("Content-Length: 0\n\n", "Content-Length: 23\n\nMessages-Waiting: yes\n"),
        outside_a_call("PUBLISH", "z9hG4bKs3", "Event: presence\nExpires: 600\n"),
        outside_a_call("REFER", "z9hG4bKs4", "Refer-To: <sip:carol@192.0.2.3>\n"),
    ];
    for request in &requests {
        let out = uas.receive(t0, request);
        assert!(out.is_empty(), "left to the application: {:?}\n{request}", statuses(&out));
    }
    // Those that need a dialog are still answered here, and a method this side does not
    // know (§8.2.1).
    assert_eq!(statuses(&uas.receive(t0, &outside_a_call("BYE", "z9hG4bKs5", ""))), [481]);
    assert_eq!(statuses(&uas.receive(t0, &outside_a_call("FROBNICATE", "z9hG4bKs6", ""))), [501]);
    let methods: Vec<&str> = uas.asked.iter().map(|(_, r)| r.method.as_str()).collect();
    assert_eq!(methods, ["SUBSCRIBE", "NOTIFY", "PUBLISH", "REFER"]);
    assert_eq!(&uas.asked[1].1.body[..], b"Messages-Waiting: yes\r\n");
    let handles: Vec<RequestHandle> = uas.asked.iter().map(|(h, _)| *h).collect();
    let [subscribe, notify, publish, refer] = handles.try_into().unwrap();

    // A 2xx to SUBSCRIBE or REFER would make a subscription nobody here can NOTIFY in.
    assert!(uas.answerer.answer_request(subscribe, StatusCode::OK, Vec::new()).is_err());
    assert!(uas.answerer.answer_request(refer, StatusCode::ACCEPTED, Vec::new()).is_err());
    assert!(uas.pump(t0).is_empty(), "a refused answer sends nothing");
    uas.answerer.answer_request(subscribe, StatusCode::BAD_EVENT, Vec::new()).unwrap();
    uas.answerer.answer_request(notify, StatusCode::OK, Vec::new()).unwrap();
    uas.answerer.answer_request(publish, StatusCode::FORBIDDEN, Vec::new()).unwrap();
    let out = uas.pump(t0);
    assert_eq!(statuses(&out), [489, 200, 403]);
    assert!(out.iter().all(|m| response(m).headers.to().unwrap().unwrap().tag().is_some()), "with a To tag");

    // The REFER nobody answers: 405, with what this side allows.
    let sent = uas.advance(t0 + Duration::from_secs(9));
    let answers: Vec<(u16, bool)> = sent
        .iter()
        .map(|(_, m)| (response(m).status.as_u16(), response(m).headers.contains(&HeaderName::ALLOW)))
        .collect();
    assert_eq!(answers, [(405, true)]);
}

/// The REFER of the peer of an answered call `call` (whose 200 had To tag `tag`).
fn refer(call: &str, tag: &str) -> String {
    in_dialog("REFER", call, tag, 2, "z9hG4bKr1")
        .replace("Content-Length: 0", "Refer-To: <sip:carol@192.0.2.3>\nContent-Length: 0")
}

/// [`refer`] asking for a subscription of `expires` seconds.
fn refer_for(call: &str, tag: &str, expires: u32) -> String {
    refer(call, tag).replace("Content-Length: 0", &format!("Expires: {expires}\nContent-Length: 0"))
}

/// Asking: a call offered and accepted, with its ACK in; its handle and this side's To tag.
fn accepted_call(uas: &mut Uas, t0: Instant, call_id: &str) -> (CallHandle, String) {
    uas.receive(t0, &invite(call_id, "z9hG4bKa1"));
    let call = *uas.offered.last().expect("a call offered");
    uas.answerer.accept(t0, call).unwrap();
    let tag = to_tag(response(&uas.pump(t0)[0]));
    uas.receive(t0, &in_dialog("ACK", call_id, &tag, 1, "z9hG4bKa2"));
    (call, tag)
}

#[test]
fn a_transfer_goes_to_the_application_when_it_is_asked_and_is_refused_otherwise() {
    let t0 = Instant::now();
    // Answering by itself, nobody can place the new call: 405 with Allow (§8.2.1).
    let mut uas = Uas::new(AnswerPolicy::default());
    let ok = uas.receive(t0, &invite("c1@192.0.2.1", "z9hG4bKt1"));
    let tag = to_tag(response(&ok[0]));
    uas.receive(t0, &in_dialog("ACK", "c1@192.0.2.1", &tag, 1, "z9hG4bKt2"));
    let out = uas.receive(t0, &refer("c1@192.0.2.1", &tag));
    assert_eq!(statuses(&out), [405]);
    let allow = response(&out[0]).headers.get(&HeaderName::ALLOW).unwrap().value().clone();
    assert!(!String::from_utf8_lossy(&allow).contains("REFER"), "{allow:?}");

    // Asking: 202, a NOTIFY that the call is tried, and the application is told.
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    let (call, tag) = accepted_call(&mut uas, t0, "c2@192.0.2.1");
    let out = uas.receive(t0, &refer("c2@192.0.2.1", &tag));
    let notify = |m: &Message| match m {
        Message::Request(r) if r.method == Method::NOTIFY => {
            let state = r.headers.get(&HeaderName::from_static("Subscription-State")).unwrap().value().clone();
            Some((String::from_utf8_lossy(&r.body).into_owned(), String::from_utf8_lossy(&state).into_owned()))
        }
        _ => None,
    };
    assert_eq!(response(&out[0]).status, StatusCode::ACCEPTED);
    let (body, state) = notify(&out[1]).expect("a NOTIFY");
    let options = uas.receive(t0, &in_dialog("OPTIONS", "c2@192.0.2.1", &tag, 3, "z9hG4bKt5"));
    let allow = response(&options[0]).headers.get(&HeaderName::ALLOW).map(|h| h.value().clone());
    assert!(allow.is_some_and(|a| String::from_utf8_lossy(&a).contains("REFER")), "asking, REFER is allowed");
    assert!(body.starts_with("SIP/2.0 100") && state.starts_with("active"), "{body} / {state}");
    assert_eq!(uas.transfers, [(call, "sip:carol@192.0.2.3".parse().unwrap())]);
    // Twenty seconds on the new call rings: the NOTIFY says what is left of the minute.
    let t20 = t0 + Duration::from_secs(20);
    uas.answerer.transfer_progress(t20, call, StatusCode::RINGING).unwrap();
    let (body, state) = notify(&uas.pump(t20)[0]).expect("a NOTIFY");
    assert_eq!((body.as_str(), state.as_str()), ("SIP/2.0 180 Ringing\r\n", "active;expires=40"));
    // The new call is declined: the last NOTIFY says so and ends the subscription.
    uas.answerer.transfer_progress(t20, call, StatusCode::DECLINE).unwrap();
    let out = uas.pump(t20);
    let (body, state) = notify(&out[0]).expect("a NOTIFY");
    assert!(body.starts_with("SIP/2.0 603") && state.starts_with("terminated"), "{body} / {state}");
    assert!(uas.answerer.transfer_progress(t20, call, StatusCode::OK).is_err(), "the transfer is over");
}

#[test]
fn a_refer_asking_for_no_subscription_gets_the_default_one() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    let (_, tag) = accepted_call(&mut uas, t0, "c4@192.0.2.1");
    // Expires 0 would end the subscription before its first NOTIFY: not taken.
    let out = uas.receive(t0, &refer_for("c4@192.0.2.1", &tag, 0));
    let [Message::Response(accepted), Message::Request(notify)] = &out[..] else { panic!("202 and NOTIFY: {out:?}") };
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    assert_eq!(accepted.headers.expires().and_then(Result::ok).map(|e| e.0), Some(60));
    assert_eq!(notify.headers.get(&HeaderName::SUBSCRIPTION_STATE).unwrap().value(), "active;expires=60");
}

#[test]
fn a_transfer_without_a_final_status_ends_when_its_subscription_expires() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    let (call, tag) = accepted_call(&mut uas, t0, "c3@192.0.2.1");
    // The REFER asks for 30 s, less than this side's 60.
    let out = uas.receive(t0, &refer_for("c3@192.0.2.1", &tag, 30));
    let accepted = response(&out[0]);
    assert_eq!(accepted.status, StatusCode::ACCEPTED);
    assert_eq!(accepted.headers.expires().and_then(Result::ok).map(|e| e.0), Some(30));
    let Message::Request(first) = &out[1] else { panic!("the first NOTIFY: {out:?}") };
    assert_eq!(first.headers.get(&HeaderName::SUBSCRIPTION_STATE).unwrap().value(), "active;expires=30");
    // The application never says how the new call went: at 30 s the subscription ends
    // with the last status it had, and nothing more can be reported.
    // (Nobody answers the NOTIFYs here, so each is retransmitted: the first sending of
    // each new one is what counts.)
    let sent = uas.advance(t0 + Duration::from_secs(31));
    let mut notifies: Vec<(Instant, &Request)> = Vec::new();
    for (at, m) in &sent {
        if let Message::Request(r) = m {
            let seen = |n: &Request| n.headers.cseq() == r.headers.cseq();
            if r.method == Method::NOTIFY && !seen(first) && !notifies.iter().any(|(_, n)| seen(n)) {
                notifies.push((*at, r));
            }
        }
    }
    let [(at, notify)] = &notifies[..] else { panic!("one new NOTIFY (the first went with the 202): {sent:?}") };
    assert_eq!(*at, t0 + Duration::from_secs(30));
    let state = notify.headers.get(&HeaderName::SUBSCRIPTION_STATE).unwrap().value().clone();
    assert_eq!(&state[..], b"terminated;reason=timeout");
    assert_eq!(&notify.body[..], b"SIP/2.0 100 Trying\r\n");
    let later = t0 + Duration::from_secs(31);
    assert!(uas.answerer.transfer_progress(later, call, StatusCode::OK).is_err(), "the transfer is over");
}

/// A SUBSCRIBE outside any dialog for `event` with the `extra` headers (an Expires).
fn subscribe(branch: &str, event: &str, extra: &str) -> String {
    outside_a_call("SUBSCRIBE", branch, &format!("Contact: <sip:alice@192.0.2.1:5060>\nEvent: {event}\n{extra}"))
}

/// The subscriber's SUBSCRIBE in the dialog `subscribe(branch, ..)` made, asking for `expires`.
fn resubscribe(branch: &str, to_tag: &str, seq: u32, expires: u32) -> String {
    in_dialog("SUBSCRIBE", &format!("{branch}@192.0.2.1"), to_tag, seq, &format!("{branch}-{seq}"))
        .replace("Content-Length: 0", &format!("Event: presence\nExpires: {expires}\nContent-Length: 0"))
}

fn request(m: &Message) -> &Request {
    match m {
        Message::Request(r) => r,
        Message::Response(r) => panic!("expected a request, got {}", r.status),
    }
}

fn header(headers: &sip_message::Headers, name: &'static str) -> String {
    let value = headers.get(&HeaderName::from_static(name)).unwrap_or_else(|| panic!("no {name}")).value().clone();
    String::from_utf8_lossy(&value).into_owned()
}

const PIDF: &str = "<presence entity=\"sip:bob@192.0.2.2\"/>";

fn pidf() -> Option<(MediaType, Bytes)> {
    Some((MediaType::new("application", "pidf+xml").unwrap(), Bytes::from_static(PIDF.as_bytes())))
}

/// Asking: the SUBSCRIBE `subscribe(branch, "presence", Expires)` received and accepted
/// at `t0`, with a body; its handle, this side's To tag, and the first NOTIFY.
fn accepted_subscription(
    uas: &mut Uas,
    t0: Instant,
    branch: &str,
    expires: u32,
) -> (SubscriptionHandle, String, Request) {
    assert!(uas.receive(t0, &subscribe(branch, "presence", &format!("Expires: {expires}\n"))).is_empty());
    let (handle, _) = uas.asked.pop().expect("the SUBSCRIBE is left to the application");
    let subscription = uas.answerer.accept_subscription(t0, handle, true, pidf()).unwrap();
    let out = uas.pump(t0);
    let [Message::Response(ok), Message::Request(notify)] = &out[..] else { panic!("200 and NOTIFY: {out:?}") };
    assert_eq!(ok.status, StatusCode::OK);
    (subscription, to_tag(ok), notify.clone())
}

#[test]
fn an_accepted_subscription_is_served_until_the_subscriber_ends_it() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    assert!(uas.receive(t0, &subscribe("z9hG4bKp1", "presence", "Expires: 600\n")).is_empty());
    let (handle, _) = uas.asked[0].clone();
    let subscription = uas.answerer.accept_subscription(t0, handle, true, pidf()).unwrap();
    let out = uas.pump(t0);
    // §4.2.1: the 2xx carries the expiry granted and a Contact; the NOTIFY follows at once.
    let ok = response(&out[0]);
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.headers.expires().and_then(Result::ok).map(|e| e.0), Some(600));
    assert_eq!(
        ok.headers
            .contact()
            .next()
            .and_then(Result::ok)
            .and_then(|c| c.address().map(|a| a.uri().to_string()))
            .as_deref(),
        Some("sip:sipkit@192.0.2.2:5090")
    );
    let tag = to_tag(ok);
    let notify = request(&out[1]).clone();
    assert_eq!(notify.method, Method::NOTIFY);
    assert_eq!(notify.headers.to().unwrap().unwrap().tag(), Some("a1"), "in the dialog the SUBSCRIBE made");
    assert_eq!(notify.headers.from().unwrap().unwrap().tag(), Some(tag.as_str()));
    assert_eq!(header(&notify.headers, "Event"), "presence");
    assert_eq!(header(&notify.headers, "Subscription-State"), "active;expires=600");
    assert_eq!(header(&notify.headers, "Content-Type"), "application/pidf+xml");
    assert_eq!(&notify.body[..], PIDF.as_bytes());
    assert!(uas.answer(t0, &notify, StatusCode::OK).is_empty());
    assert_eq!(uas.answerer.subscriptions(), 1);

    // A change of the resource: a NOTIFY of it.
    let t1 = t0 + Duration::from_secs(100);
    uas.answerer.notify(t1, subscription, pidf()).unwrap();
    let out = uas.pump(t1);
    let change = request(&out[0]).clone();
    assert_eq!(header(&change.headers, "Subscription-State"), "active;expires=500");
    assert!(change.headers.cseq().unwrap().unwrap().seq > notify.headers.cseq().unwrap().unwrap().seq);
    uas.answer(t1, &change, StatusCode::OK);

    // A refresh: the new expiry, and a NOTIFY of the state (§4.2.1.2).
    let out = uas.receive(t1, &resubscribe("z9hG4bKp1", &tag, 2, 300));
    assert_eq!(response(&out[0]).status, StatusCode::OK);
    assert_eq!(response(&out[0]).headers.expires().and_then(Result::ok).map(|e| e.0), Some(300));
    assert_eq!(header(&request(&out[1]).headers, "Subscription-State"), "active;expires=300");
    uas.answer(t1, request(&out[1]), StatusCode::OK);

    // The subscriber unsubscribes: 200, a last NOTIFY, and the application is told.
    let out = uas.receive(t1, &resubscribe("z9hG4bKp1", &tag, 3, 0));
    assert_eq!(response(&out[0]).status, StatusCode::OK);
    let last = request(&out[1]).clone();
    assert_eq!(header(&last.headers, "Subscription-State"), "terminated;reason=timeout");
    assert_eq!(uas.ended, [(subscription, Some("timeout".to_owned()))]);
    assert!(uas.answerer.notify(t1, subscription, None).is_err(), "nothing more to NOTIFY");
    assert_eq!(uas.answerer.subscriptions(), 1, "kept until the last NOTIFY is answered");
    uas.answer(t1, &last, StatusCode::OK);
    assert_eq!(uas.answerer.subscriptions(), 0);
    assert_eq!(uas.answerer.poll_timeout(), None, "nothing left to time");
    // The dialog is gone: a SUBSCRIBE in it now gets 481.
    assert_eq!(statuses(&uas.receive(t1, &resubscribe("z9hG4bKp1", &tag, 4, 600))), [481]);
}

#[test]
fn a_subscription_nobody_refreshes_ends_at_its_expiry() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    let (subscription, _, notify) = accepted_subscription(&mut uas, t0, "z9hG4bKe1", 120);
    uas.answer(t0, &notify, StatusCode::OK);
    assert!(uas.advance(t0 + Duration::from_secs(119)).is_empty());
    let sent = uas.advance(t0 + Duration::from_secs(120));
    let [(at, Message::Request(last))] = &sent[..] else { panic!("the last NOTIFY: {sent:?}") };
    assert_eq!(*at, t0 + Duration::from_secs(120));
    assert_eq!(header(&last.headers, "Subscription-State"), "terminated;reason=timeout");
    assert_eq!(uas.ended, [(subscription, Some("timeout".to_owned()))]);
    uas.answer(*at, last, StatusCode::OK);
    assert_eq!(uas.answerer.subscriptions(), 0);
}

#[test]
fn a_notify_the_subscriber_never_answers_ends_the_subscription() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    let (subscription, _, _) = accepted_subscription(&mut uas, t0, "z9hG4bKn1", 3600);
    // The NOTIFY is retransmitted until Timer F (64·T1) gives up: the subscriber is gone.
    uas.advance(t0 + Duration::from_secs(33));
    assert_eq!(uas.ended, [(subscription, Some("dialog gone".to_owned()))]);
    assert_eq!(uas.answerer.subscriptions(), 0);
    // A 481 to a NOTIFY says the same at once (RFC 6665 §4.2.2).
    let (subscription, _, notify) = accepted_subscription(&mut uas, t0, "z9hG4bKn2", 3600);
    uas.answer(t0, &notify, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
    assert_eq!(uas.ended.last(), Some(&(subscription, Some("dialog gone".to_owned()))));
    assert_eq!(uas.answerer.subscriptions(), 0);
}

#[test]
fn a_subscription_this_side_cannot_make_is_answered_and_said_so() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, max_subscriptions: 1, ..AnswerPolicy::default() });
    let refused = |uas: &mut Uas, text: &str| {
        assert!(uas.receive(t0, text).is_empty());
        let (handle, _) = uas.asked.pop().unwrap();
        let refused = uas.answerer.accept_subscription(t0, handle, true, None).unwrap_err();
        (refused, uas.pump(t0))
    };
    // §4.2.1.1: an Expires below the minute this side takes: 423 with Min-Expires.
    let (error, out) = refused(&mut uas, &subscribe("z9hG4bKr1", "presence", "Expires: 30\n"));
    assert_eq!(error, SubscriptionRefused::Answered(StatusCode::INTERVAL_TOO_BRIEF));
    assert_eq!(statuses(&out), [423]);
    assert_eq!(header(&response(&out[0]).headers, "Min-Expires"), "60");
    assert!(response(&out[0]).headers.to().unwrap().unwrap().tag().is_some(), "with a To tag");
    // No Event: 489 (§8.2.1 of RFC 6665's SUBSCRIBE rules).
    let no_event = outside_a_call("SUBSCRIBE", "z9hG4bKr2", "Contact: <sip:alice@192.0.2.1:5060>\n");
    let (error, out) = refused(&mut uas, &no_event);
    assert_eq!((error, statuses(&out)), (SubscriptionRefused::Answered(StatusCode::BAD_EVENT), vec![489]));
    // No Contact: no dialog can be made (400).
    let (error, out) = refused(&mut uas, &outside_a_call("SUBSCRIBE", "z9hG4bKr3", "Event: presence\n"));
    assert_eq!((error, statuses(&out)), (SubscriptionRefused::Answered(StatusCode::BAD_REQUEST), vec![400]));
    // One subscription is the cap here: a second gets 503.
    accepted_subscription(&mut uas, t0, "z9hG4bKr4", 600);
    let (error, out) = refused(&mut uas, &subscribe("z9hG4bKr5", "presence", "Expires: 600\n"));
    assert_eq!((error, statuses(&out)), (SubscriptionRefused::Answered(StatusCode::SERVICE_UNAVAILABLE), vec![503]));
    // A request that makes no subscription is not taken, and still waits for its answer.
    assert!(uas.receive(t0, &outside_a_call("MESSAGE", "z9hG4bKr6", "")).is_empty());
    let (message, _) = uas.asked.pop().unwrap();
    assert_eq!(uas.answerer.accept_subscription(t0, message, true, None), Err(SubscriptionRefused::Unknown));
    uas.answerer.answer_request(message, StatusCode::OK, Vec::new()).unwrap();
    assert_eq!(statuses(&uas.pump(t0)), [200]);
}

#[test]
fn a_refer_outside_a_call_is_served_with_notifies_of_how_it_goes() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    // RFC 3515 §2.4.1: without a Refer-To there is nothing to do: 400, nobody asked.
    let no_target = outside_a_call("REFER", "z9hG4bKf0", "Contact: <sip:alice@192.0.2.1:5060>\n");
    assert_eq!(statuses(&uas.receive(t0, &no_target)), [400]);
    assert!(uas.asked.is_empty());
    let refer =
        outside_a_call("REFER", "z9hG4bKf1", "Contact: <sip:alice@192.0.2.1:5060>\nRefer-To: <sip:carol@192.0.2.3>\n");
    assert!(uas.receive(t0, &refer).is_empty());
    let (handle, _) = uas.asked.pop().unwrap();
    let sipfrag =
        |text: &'static str| Some((MediaType::new("message", "sipfrag").unwrap(), Bytes::from_static(text.as_bytes())));
    let subscription = uas.answerer.accept_subscription(t0, handle, true, sipfrag("SIP/2.0 100 Trying\r\n")).unwrap();
    let out = uas.pump(t0);
    // RFC 3515 §2.4.2: 202, then a NOTIFY of event `refer`.
    assert_eq!(response(&out[0]).status, StatusCode::ACCEPTED);
    assert_eq!(header(&request(&out[1]).headers, "Event"), "refer");
    assert_eq!(&request(&out[1]).body[..], b"SIP/2.0 100 Trying\r\n");
    uas.answer(t0, request(&out[1]), StatusCode::OK);
    // The referred call is answered: the last NOTIFY says so.
    uas.answerer.terminate_subscription(t0, subscription, "noresource", sipfrag("SIP/2.0 200 OK\r\n")).unwrap();
    let out = uas.pump(t0);
    assert_eq!(header(&request(&out[0]).headers, "Subscription-State"), "terminated;reason=noresource");
    assert_eq!(&request(&out[0]).body[..], b"SIP/2.0 200 OK\r\n");
    assert_eq!(uas.ended, [(subscription, Some("noresource".to_owned()))]);
}

#[test]
fn the_expiries_granted_are_the_ones_configured() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { ask: true, ..AnswerPolicy::default() });
    let config = SubscriptionConfig { default_expires: 120, max_expires: 300, min_expires: 10, ..Default::default() };
    uas.answerer = uas.answerer.with_subscription_config(config);
    let granted = |uas: &mut Uas, branch: &str, extra: &str| {
        assert!(uas.receive(t0, &subscribe(branch, "presence", extra)).is_empty());
        let (handle, _) = uas.asked.pop().unwrap();
        let accepted = uas.answerer.accept_subscription(t0, handle, true, None);
        let out = uas.pump(t0);
        (accepted.is_ok(), response(&out[0]).headers.expires().and_then(Result::ok).map(|e| e.0))
    };
    assert_eq!(granted(&mut uas, "z9hG4bKx1", ""), (true, Some(120)), "none asked: the default");
    assert_eq!(granted(&mut uas, "z9hG4bKx2", "Expires: 5000\n"), (true, Some(300)), "cut to the longest");
    assert_eq!(granted(&mut uas, "z9hG4bKx3", "Expires: 30\n"), (true, Some(30)), "above the shortest");
    assert_eq!(granted(&mut uas, "z9hG4bKx4", "Expires: 5\n"), (false, None), "below it: 423");
}

#[test]
fn the_event_packages_served_are_accepted_without_asking() {
    let t0 = Instant::now();
    let mut uas = Uas::new(AnswerPolicy { serve_events: vec!["presence".into()], ..AnswerPolicy::default() });
    let out = uas.receive(t0, &subscribe("z9hG4bKv1", "presence", "Expires: 300\n"));
    let [Message::Response(ok), Message::Request(notify)] = &out[..] else { panic!("200 and NOTIFY: {out:?}") };
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.headers.expires().and_then(Result::ok).map(|e| e.0), Some(300));
    assert_eq!(header(&notify.headers, "Subscription-State"), "active;expires=300");
    assert!(notify.body.is_empty() && !notify.headers.contains(&HeaderName::CONTENT_TYPE), "no state to report");
    assert_eq!(uas.answerer.subscriptions(), 1);
    // Another package: 489, saying which are served (RFC 6665 §8.2.2).
    let out = uas.receive(t0, &subscribe("z9hG4bKv2", "dialog", "Expires: 300\n"));
    assert_eq!(statuses(&out), [489]);
    assert_eq!(header(&response(&out[0]).headers, "Allow-Events"), "presence");
    // Allow says SUBSCRIBE is taken.
    let out = uas.receive(t0, &outside_a_call("OPTIONS", "z9hG4bKv3", ""));
    assert!(header(&response(&out[0]).headers, "Allow").contains("SUBSCRIBE"));
    // Without packages to serve, a SUBSCRIBE is a method this side does not take.
    let mut plain = Uas::new(AnswerPolicy::default());
    assert_eq!(statuses(&plain.receive(t0, &subscribe("z9hG4bKv4", "presence", ""))), [405]);
}
