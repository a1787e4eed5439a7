//! Random interleavings of requests sent, requests received and responses in one dialog:
//! the CSeq of the requests sent only grows, the remote CSeq never goes back, every request
//! goes to the dialog's target through its route set and nowhere else, and nothing is sent
//! after the dialog ended.

use proptest::prelude::*;
use sip_dialog::{Dialog, DialogError, DialogState, is_target_refresh};
use sip_message::header::{Transport, Via};
use sip_message::{Header, HeaderName, Message, Method, Request, Response, StatusCode, Uri};

const METHODS: [Method; 9] = [
    Method::INVITE,
    Method::UPDATE,
    Method::INFO,
    Method::BYE,
    Method::OPTIONS,
    Method::MESSAGE,
    Method::SUBSCRIBE,
    Method::NOTIFY,
    Method::REFER,
];

#[derive(Debug, Clone)]
enum Op {
    /// Build a request of `METHODS[m]`.
    Send(usize),
    /// Receive a request of `METHODS[m]` whose CSeq is the last received plus `delta`,
    /// with Contact number `contact` if any.
    Receive(usize, i64, Option<u8>),
    /// Answer the `n`th request sent (from the end) with a status, and a Contact.
    Answer(usize, u16, Option<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..METHODS.len()).prop_map(Op::Send),
        (0..METHODS.len(), -3i64..4, prop::option::of(0u8..4)).prop_map(|(m, d, c)| Op::Receive(m, d, c)),
        (0..4usize, prop::sample::select(vec![180u16, 200, 202, 408, 481, 486, 491]), prop::option::of(0u8..4))
            .prop_map(|(n, s, c)| Op::Answer(n, s, c)),
    ]
}

fn contact_uri(n: u8) -> String {
    format!("sip:peer{n}@192.0.2.{}", 10 + n)
}

fn parse(text: &str) -> Message {
    Message::parse(text.replace('\n', "\r\n").into_bytes()).expect("test message")
}

fn via(n: usize) -> Via {
    let host = "client.example.com".parse().expect("host");
    Via::new(&Transport::UDP, &host, None).with_branch(&format!("z9hG4bKp{n}")).expect("branch")
}

/// A confirmed UAC dialog whose 2xx had these Record-Routes (each loose or strict).
fn dialog(routes: &[bool]) -> Dialog {
    let Message::Request(invite) = parse(
        "INVITE sip:peer@example.com SIP/2.0
Via: SIP/2.0/UDP client.example.com;branch=z9hG4bKinv
Max-Forwards: 70
From: <sip:me@example.com>;tag=lt
To: <sip:peer@example.com>
Call-ID: prop@example.com
CSeq: 10 INVITE
Contact: <sip:me@client.example.com>
Content-Length: 0

",
    ) else {
        unreachable!()
    };
    let record_route: String = routes
        .iter()
        .enumerate()
        .rev()
        .map(|(i, loose)| format!("Record-Route: <sip:p{i}.example.com{}>\n", if *loose { ";lr" } else { "" }))
        .collect();
    let Message::Response(ok) = parse(&format!(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP client.example.com;branch=z9hG4bKinv
{record_route}From: <sip:me@example.com>;tag=lt
To: <sip:peer@example.com>;tag=rt
Call-ID: prop@example.com
CSeq: 10 INVITE
Contact: <{}>
Content-Length: 0

",
        contact_uri(0)
    )) else {
        unreachable!()
    };
    Dialog::new_uac(&invite, &ok).expect("dialog")
}

fn incoming(method: &Method, seq: u32, contact: Option<u8>) -> Request {
    let contact = contact.map(|c| format!("Contact: <{}>\n", contact_uri(c))).unwrap_or_default();
    let Message::Request(r) = parse(&format!(
        "{method} sip:me@client.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKin{seq}
Max-Forwards: 70
From: <sip:peer@example.com>;tag=rt
To: <sip:me@example.com>;tag=lt
Call-ID: prop@example.com
CSeq: {seq} {method}
{contact}Content-Length: 0

"
    )) else {
        unreachable!()
    };
    r
}

fn route_uris(r: &Request) -> Vec<String> {
    r.headers.route().map(|r| r.expect("Route").uri().to_string()).collect()
}

proptest! {
    #[test]
    fn requests_stay_in_order_and_on_the_route(
        routes in prop::collection::vec(any::<bool>(), 0..4),
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let mut d = dialog(&routes);
        let route_set: Vec<String> = (0..routes.len())
            .map(|i| format!("sip:p{i}.example.com{}", if routes[i] { ";lr" } else { "" }))
            .collect();
        let mut target: Uri = contact_uri(0).parse().expect("uri");
        let mut last_sent = d.local_seq().expect("UAC local CSeq");
        let mut remote = d.remote_seq();
        let mut sent: Vec<Request> = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Send(m) => {
                    let method = METHODS[m].clone();
                    match d.request(method.clone(), via(n)) {
                        Ok(r) => {
                            prop_assert!(d.state() != DialogState::Terminated);
                            let seq = r.headers.cseq().expect("CSeq").expect("CSeq").seq;
                            prop_assert!(seq > last_sent, "CSeq {} after {}", seq, last_sent);
                            last_sent = seq;
                            prop_assert_eq!(d.local_seq(), Some(seq));
                            // Where it goes: the target through the route set, nowhere else.
                            let routes_sent = route_uris(&r);
                            if route_set.is_empty() {
                                prop_assert_eq!(&r.uri, &target);
                                prop_assert!(routes_sent.is_empty());
                            } else if routes[0] {
                                prop_assert_eq!(&r.uri, &target);
                                prop_assert_eq!(&routes_sent, &route_set);
                            } else {
                                prop_assert_eq!(r.uri.to_string(), "sip:p0.example.com");
                                let mut expected = route_set[1..].to_vec();
                                expected.push(target.to_string());
                                prop_assert_eq!(&routes_sent, &expected);
                            }
                            sent.push(r);
                        }
                        Err(e) => {
                            prop_assert_eq!(e, DialogError::Terminated);
                            prop_assert_eq!(d.state(), DialogState::Terminated);
                        }
                    }
                }
                Op::Receive(m, delta, contact) => {
                    let method = &METHODS[m];
                    let base = i64::from(remote.unwrap_or(1000));
                    let Ok(seq) = u32::try_from(base + delta) else { continue };
                    let result = d.receive_request(&incoming(method, seq, contact));
                    match result {
                        Ok(()) => {
                            prop_assert!(d.state() != DialogState::Terminated);
                            prop_assert!(remote.is_none_or(|r| seq >= r));
                            remote = Some(seq);
                            if let Some(c) = contact.filter(|_| is_target_refresh(method)) {
                                target = contact_uri(c).parse().expect("uri");
                            }
                        }
                        Err(DialogError::OutOfOrder { seq: s, remote_seq }) => {
                            prop_assert_eq!(s, seq);
                            prop_assert_eq!(Some(remote_seq), remote);
                            prop_assert!(seq < remote_seq);
                        }
                        Err(DialogError::UnknownDialog) => prop_assert_eq!(d.state(), DialogState::Terminated),
                        Err(e) => prop_assert!(false, "unexpected {e}"),
                    }
                    prop_assert_eq!(d.remote_seq(), remote);
                }
                Op::Answer(back, status, contact) => {
                    let Some(request) = sent.len().checked_sub(back + 1).map(|i| sent[i].clone()) else { continue };
                    let status = StatusCode::new(status).expect("status");
                    let mut response = Response::from_request(&request, status).with_to_tag("rt").expect("tag");
                    if let Some(c) = contact {
                        let h = Header::new(HeaderName::CONTACT, format!("<{}>", contact_uri(c))).expect("Contact");
                        response.headers.push(h);
                    }
                    let was = d.state();
                    d.receive_response(&request.method, &response).expect("response");
                    if was == DialogState::Terminated {
                        prop_assert_eq!(d.state(), DialogState::Terminated);
                        continue;
                    }
                    if status.is_success() && is_target_refresh(&request.method) {
                        if let Some(c) = contact {
                            target = contact_uri(c).parse().expect("uri");
                        }
                    }
                    let ends = matches!(status.as_u16(), 408 | 481);
                    prop_assert_eq!(d.state() == DialogState::Terminated, ends);
                }
            }
            prop_assert_eq!(d.remote_target(), &target);
        }
    }
}
