//! Dialog ladders (RFC 3261 §12, §13.2.2.4): the messages in, and the requests built,
//! field by field.

use sip_dialog::{Dialog, DialogError, DialogId, DialogState, Dialogs, MAX_CSEQ, Role, UacOutcome};
use sip_message::header::{NameAddr, Transport, Via};
use sip_message::{Message, Method, Request, Response, StatusCode};

/// A message written with `\n` line ends, sent with CRLF.
fn msg(text: &str) -> Message {
    let wire = text.replace('\n', "\r\n");
    Message::parse(wire.into_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn req(text: &str) -> Request {
    match msg(text) {
        Message::Request(r) => r,
        Message::Response(_) => panic!("not a request"),
    }
}

fn resp(text: &str) -> Response {
    match msg(text) {
        Message::Response(r) => r,
        Message::Request(_) => panic!("not a response"),
    }
}

fn via(branch: &str) -> Via {
    let host = "client.atlanta.example.com".parse().expect("host");
    Via::new(&Transport::UDP, &host, Some(5060)).with_branch(branch).expect("branch")
}

/// The values of header `name` in order, as written.
fn values(r: &Request, name: &str) -> Vec<String> {
    r.headers
        .iter()
        .filter(|h| h.name().as_str().eq_ignore_ascii_case(name))
        .map(|h| String::from_utf8_lossy(h.value()).into_owned())
        .collect()
}

fn one(r: &Request, name: &str) -> String {
    let v = values(r, name);
    assert_eq!(v.len(), 1, "{name}: {v:?}");
    v[0].clone()
}

const INVITE: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
Max-Forwards: 70
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:alice@client.atlanta.example.com;transport=udp>
Content-Length: 0

";

/// A response to [`INVITE`] from the branch with `tag`, through two loose routers.
fn answer(status: &str, tag: &str, contact: &str) -> Response {
    resp(&format!(
        "SIP/2.0 {status}
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
Record-Route: <sip:p2.biloxi.example.com;lr>
Record-Route: <sip:p1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag={tag}
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <{contact}>
Content-Length: 0

"
    ))
}

#[test]
fn uac_dialog_from_a_2xx_routes_its_requests() {
    let invite = req(INVITE);
    let ok = answer("200 OK", "8321234356", "sip:bob@192.0.2.4");
    let mut d = Dialog::new_uac(&invite, &ok).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.role(), Role::Uac);
    assert_eq!(d.id(), &DialogId::new("3848276298220188511@atlanta.example.com", "9fxced76sl", "8321234356"));
    assert_eq!(d.local_seq(), Some(1));
    assert_eq!(d.remote_seq(), None);
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.4");
    assert_eq!(d.local_target().to_string(), "sip:alice@client.atlanta.example.com;transport=udp");
    // The route set is the Record-Route in reverse: the nearest proxy first.
    let routes: Vec<String> = d.route_set().iter().map(|r| r.uri().to_string()).collect();
    assert_eq!(routes, ["sip:p1.atlanta.example.com;lr", "sip:p2.biloxi.example.com;lr"]);

    let bye = d.request(Method::BYE, via("z9hG4bKbye1")).unwrap();
    assert_eq!(bye.method, Method::BYE);
    assert_eq!(bye.uri.to_string(), "sip:bob@192.0.2.4");
    assert_eq!(values(&bye, "Route"), ["<sip:p1.atlanta.example.com;lr>", "<sip:p2.biloxi.example.com;lr>"]);
    assert_eq!(one(&bye, "From"), "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl");
    assert_eq!(one(&bye, "To"), "Bob <sip:bob@biloxi.example.com>;tag=8321234356");
    assert_eq!(one(&bye, "Call-ID"), "3848276298220188511@atlanta.example.com");
    assert_eq!(one(&bye, "CSeq"), "2 BYE");
    assert_eq!(one(&bye, "Max-Forwards"), "70");
    assert_eq!(one(&bye, "Via"), "SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bKbye1");
    assert!(values(&bye, "Contact").is_empty(), "BYE carries no Contact");
    assert_eq!(d.local_seq(), Some(2));

    // A re-INVITE carries the Contact and the next CSeq.
    let reinvite = d.request(Method::INVITE, via("z9hG4bKre1")).unwrap();
    assert_eq!(one(&reinvite, "CSeq"), "3 INVITE");
    assert_eq!(one(&reinvite, "Contact"), "<sip:alice@client.atlanta.example.com;transport=udp>");

    // The ACK for the 2xx has the INVITE's CSeq number and the dialog's routing, and
    // does not advance the CSeq.
    let ack = d.ack(1, via("z9hG4bKack1")).unwrap();
    assert_eq!(ack.method, Method::ACK);
    assert_eq!(ack.uri.to_string(), "sip:bob@192.0.2.4");
    assert_eq!(one(&ack, "CSeq"), "1 ACK");
    assert_eq!(values(&ack, "Route").len(), 2);
    assert_eq!(d.local_seq(), Some(3));
    assert!(matches!(d.request(Method::ACK, via("z9hG4bKx")), Err(DialogError::NotNewRequest("ACK"))));
    assert!(matches!(d.request(Method::CANCEL, via("z9hG4bKx")), Err(DialogError::NotNewRequest("CANCEL"))));
}

#[test]
fn strict_router_first_in_the_route_set() {
    // §12.2.1.1: the first route has no lr, so it becomes the Request-URI (without the
    // parameters a Request-URI may not carry) and the remote target goes last in Route.
    let invite = req(INVITE);
    let ok = resp(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
Record-Route: <sip:p2.biloxi.example.com;lr>
Record-Route: <sip:p1.atlanta.example.com;method=INVITE?Subject=x>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:bob@192.0.2.4>
Content-Length: 0

",
    );
    let mut d = Dialog::new_uac(&invite, &ok).unwrap();
    let bye = d.request(Method::BYE, via("z9hG4bKbye2")).unwrap();
    assert_eq!(bye.uri.to_string(), "sip:p1.atlanta.example.com");
    assert_eq!(values(&bye, "Route"), ["<sip:p2.biloxi.example.com;lr>", "<sip:bob@192.0.2.4>"]);
    let (uri, routes) = d.request_target();
    assert_eq!(uri.to_string(), "sip:p1.atlanta.example.com");
    assert_eq!(routes.len(), 2);
}

#[test]
fn no_route_set_sends_straight_to_the_target() {
    let invite = req(INVITE);
    let ok = resp(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=8321234356
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:bob@192.0.2.4:5062;transport=tcp>
Content-Length: 0

",
    );
    let mut d = Dialog::new_uac(&invite, &ok).unwrap();
    let info = d.request(Method::INFO, via("z9hG4bKinfo")).unwrap();
    assert_eq!(info.uri.to_string(), "sip:bob@192.0.2.4:5062;transport=tcp");
    assert!(values(&info, "Route").is_empty());
    assert!(!d.is_secure());
}

const INCOMING_INVITE: &str = "INVITE sips:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/TLS p2.biloxi.example.com;branch=z9hG4bKp2
Via: SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK74bf9
Record-Route: <sips:p2.biloxi.example.com;lr>
Record-Route: <sips:p1.atlanta.example.com;lr>
Max-Forwards: 68
From: \"Alice\" <sips:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sips:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 101 INVITE
Contact: <sips:alice@client.atlanta.example.com>
Content-Length: 0

";

fn uas_dialog() -> (Request, Dialog) {
    let invite = req(INCOMING_INVITE);
    let mut ok = Response::from_request(&invite, StatusCode::OK).with_to_tag("314159").unwrap();
    ok.headers.push(sip_message::Header::new(sip_message::HeaderName::CONTACT, "<sips:bob@192.0.2.4>").unwrap());
    let d = Dialog::new_uas(&invite, &ok).unwrap();
    (invite, d)
}

#[test]
fn uas_dialog_keeps_the_record_route_in_order() {
    let (_, mut d) = uas_dialog();
    assert_eq!(d.role(), Role::Uas);
    assert_eq!(d.state(), DialogState::Confirmed);
    assert!(d.is_secure());
    assert_eq!(d.id(), &DialogId::new("3848276298220188511@atlanta.example.com", "314159", "9fxced76sl"));
    assert_eq!(d.remote_seq(), Some(101));
    assert_eq!(d.local_seq(), None);
    assert_eq!(d.remote_target().to_string(), "sips:alice@client.atlanta.example.com");
    assert_eq!(d.local_target().to_string(), "sips:bob@192.0.2.4");

    // The callee's BYE: From is the INVITE's To with the callee's tag, To the INVITE's
    // From; the route set in Record-Route order; the first CSeq of this side.
    let bye = d.request(Method::BYE, via("z9hG4bKuasbye")).unwrap();
    assert_eq!(bye.uri.to_string(), "sips:alice@client.atlanta.example.com");
    assert_eq!(values(&bye, "Route"), ["<sips:p2.biloxi.example.com;lr>", "<sips:p1.atlanta.example.com;lr>"]);
    assert_eq!(one(&bye, "From"), "Bob <sips:bob@biloxi.example.com>;tag=314159");
    assert_eq!(one(&bye, "To"), "\"Alice\" <sips:alice@atlanta.example.com>;tag=9fxced76sl");
    assert_eq!(one(&bye, "CSeq"), "1 BYE");
}

/// An in-dialog request from the caller to the callee of [`uas_dialog`].
fn in_dialog(method: &str, seq: u32, to_tag: &str, contact: Option<&str>) -> Request {
    let contact = contact.map(|c| format!("Contact: <{c}>\n")).unwrap_or_default();
    req(&format!(
        "{method} sips:bob@192.0.2.4 SIP/2.0
Via: SIP/2.0/TLS client.atlanta.example.com:5061;branch=z9hG4bK{method}{seq}
Max-Forwards: 70
From: \"Alice\" <sips:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sips:bob@biloxi.example.com>;tag={to_tag}
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: {seq} {method}
{contact}Content-Length: 0

"
    ))
}

#[test]
fn incoming_requests_are_checked_and_refresh_the_target() {
    let (_, d) = uas_dialog();
    let id = d.id().clone();
    let mut dialogs = Dialogs::new();
    dialogs.insert(d).unwrap();

    // A re-INVITE with a higher CSeq and a new Contact: the remote target moves.
    let reinvite = in_dialog("INVITE", 102, "314159", Some("sips:alice@192.0.2.9"));
    assert_eq!(dialogs.receive_request(&reinvite).unwrap(), Some(id.clone()));
    let d = dialogs.get(&id).unwrap();
    assert_eq!(d.remote_seq(), Some(102));
    assert_eq!(d.remote_target().to_string(), "sips:alice@192.0.2.9");

    // INFO is not a target refresh: its Contact changes nothing.
    let info = in_dialog("INFO", 103, "314159", Some("sips:alice@198.51.100.1"));
    dialogs.receive_request(&info).unwrap();
    assert_eq!(dialogs.get(&id).unwrap().remote_target().to_string(), "sips:alice@192.0.2.9");

    // A lower CSeq is out of order: 500.
    let old = in_dialog("INFO", 99, "314159", None);
    let err = dialogs.receive_request(&old).unwrap_err();
    assert_eq!(err, DialogError::OutOfOrder { seq: 99, remote_seq: 103 });
    assert_eq!(err.status(), StatusCode::SERVER_INTERNAL_ERROR);
    assert_eq!(dialogs.get(&id).unwrap().remote_seq(), Some(103));

    // The ACK of the re-INVITE keeps the INVITE's CSeq; it is accepted as is.
    let ack = in_dialog("ACK", 102, "314159", None);
    assert_eq!(dialogs.receive_request(&ack).unwrap(), Some(id.clone()));
    assert_eq!(dialogs.get(&id).unwrap().remote_seq(), Some(103));

    // Another To tag: no such dialog, 481.
    let stray = in_dialog("BYE", 104, "999", None);
    let err = dialogs.receive_request(&stray).unwrap_err();
    assert_eq!(err, DialogError::UnknownDialog);
    assert_eq!(err.status(), StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);

    // No To tag: a request outside any dialog.
    assert_eq!(dialogs.receive_request(&req(INCOMING_INVITE)).unwrap(), None);

    // After BYE the dialog ends; a later request gets 481.
    let bye = in_dialog("BYE", 104, "314159", None);
    assert_eq!(dialogs.receive_request(&bye).unwrap(), Some(id.clone()));
    dialogs.get_mut(&id).unwrap().terminate();
    let late = in_dialog("INFO", 105, "314159", None);
    assert_eq!(dialogs.receive_request(&late).unwrap_err(), DialogError::UnknownDialog);
    assert_eq!(dialogs.remove_terminated(), vec![id.clone()]);
    assert!(dialogs.is_empty());
}

#[test]
fn forked_invite_makes_a_dialog_per_branch() {
    let invite = req(INVITE);
    let mut dialogs = Dialogs::new();
    let trying = resp(
        "SIP/2.0 100 Trying
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Content-Length: 0

",
    );
    assert_eq!(dialogs.receive_uac_response(&invite, &trying).unwrap(), UacOutcome::Unchanged);

    // Two branches ring: two early dialogs, each with its own target.
    let a = DialogId::new("3848276298220188511@atlanta.example.com", "9fxced76sl", "branchA");
    let b = DialogId::new("3848276298220188511@atlanta.example.com", "9fxced76sl", "branchB");
    let ringing_a = answer("180 Ringing", "branchA", "sip:bob@192.0.2.4");
    let progress_b = answer("183 Session Progress", "branchB", "sip:bob@192.0.2.5");
    assert_eq!(dialogs.receive_uac_response(&invite, &ringing_a).unwrap(), UacOutcome::Early(a.clone()));
    assert_eq!(dialogs.receive_uac_response(&invite, &progress_b).unwrap(), UacOutcome::Early(b.clone()));
    assert_eq!(dialogs.receive_uac_response(&invite, &ringing_a).unwrap(), UacOutcome::Unchanged);
    assert_eq!(dialogs.len(), 2);
    assert_eq!(dialogs.get(&a).unwrap().state(), DialogState::Early);
    assert_eq!(dialogs.get(&b).unwrap().remote_target().to_string(), "sip:bob@192.0.2.5");

    // Branch A answers: confirmed, with the route set and target of the 2xx.
    let ok_a = resp(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
Record-Route: <sip:p3.biloxi.example.com;lr>
Record-Route: <sip:p1.atlanta.example.com;lr>
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=branchA
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:bob@192.0.2.44>
Content-Length: 0

",
    );
    assert_eq!(dialogs.receive_uac_response(&invite, &ok_a).unwrap(), UacOutcome::Confirmed(a.clone()));
    let da = dialogs.get(&a).unwrap();
    assert_eq!(da.state(), DialogState::Confirmed);
    assert_eq!(da.remote_target().to_string(), "sip:bob@192.0.2.44");
    let routes: Vec<String> = da.route_set().iter().map(|r| r.uri().to_string()).collect();
    assert_eq!(routes, ["sip:p1.atlanta.example.com;lr", "sip:p3.biloxi.example.com;lr"]);
    // Its retransmission is ACKed again.
    assert_eq!(dialogs.receive_uac_response(&invite, &ok_a).unwrap(), UacOutcome::Retransmitted(a.clone()));

    // Branch B answers too: the UAC ACKs it and ends it with BYE (§13.2.2.4).
    let ok_b = answer("200 OK", "branchB", "sip:bob@192.0.2.55");
    assert_eq!(dialogs.receive_uac_response(&invite, &ok_b).unwrap(), UacOutcome::Unwanted(b.clone()));
    let db = dialogs.get_mut(&b).unwrap();
    let ack = db.ack(1, via("z9hG4bKackB")).unwrap();
    let bye = db.request(Method::BYE, via("z9hG4bKbyeB")).unwrap();
    for r in [&ack, &bye] {
        assert_eq!(r.uri.to_string(), "sip:bob@192.0.2.55");
        assert_eq!(one(r, "To"), "Bob <sip:bob@biloxi.example.com>;tag=branchB");
    }
    assert_eq!(one(&bye, "CSeq"), "2 BYE");
    db.terminate();

    // A third branch that only rang ends with the INVITE transaction.
    let ringing_c = answer("180 Ringing", "branchC", "sip:bob@192.0.2.6");
    let c = DialogId::new("3848276298220188511@atlanta.example.com", "9fxced76sl", "branchC");
    assert_eq!(dialogs.receive_uac_response(&invite, &ringing_c).unwrap(), UacOutcome::Early(c.clone()));
    assert_eq!(dialogs.end_early(c.call_id(), c.local_tag()), vec![c.clone()]);
    let mut removed = dialogs.remove_terminated();
    removed.sort_by(|x, y| x.remote_tag().cmp(y.remote_tag()));
    assert_eq!(removed, vec![b, c]);
    assert_eq!(dialogs.len(), 1);
}

#[test]
fn final_failure_ends_the_early_dialogs() {
    let invite = req(INVITE);
    let mut dialogs = Dialogs::new();
    let a = DialogId::new("3848276298220188511@atlanta.example.com", "9fxced76sl", "branchA");
    dialogs.receive_uac_response(&invite, &answer("180 Ringing", "branchA", "sip:bob@192.0.2.4")).unwrap();
    let busy = answer("486 Busy Here", "branchB", "sip:bob@192.0.2.5");
    assert_eq!(dialogs.receive_uac_response(&invite, &busy).unwrap(), UacOutcome::Ended(vec![a.clone()]));
    let d = dialogs.get_mut(&a).unwrap();
    assert_eq!(d.state(), DialogState::Terminated);
    assert_eq!(d.request(Method::BYE, via("z9hG4bKlate")).unwrap_err(), DialogError::Terminated);
}

#[test]
fn early_dialog_without_contact_targets_the_request_uri() {
    let invite = req(INVITE);
    let ringing = resp(
        "SIP/2.0 180 Ringing
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>;tag=nocontact
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Content-Length: 0

",
    );
    let mut d = Dialog::new_uac(&invite, &ringing).unwrap();
    assert_eq!(d.state(), DialogState::Early);
    assert_eq!(d.remote_target().to_string(), "sip:bob@biloxi.example.com");
    // The 2xx brings the Contact and confirms the dialog.
    let ok = answer("200 OK", "nocontact", "sip:bob@192.0.2.4");
    d.receive_response(&Method::INVITE, &ok).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.4");
    assert_eq!(d.route_set().len(), 2);
}

#[test]
fn responses_in_the_dialog() {
    let invite = req(INVITE);
    let mut d = Dialog::new_uac(&invite, &answer("200 OK", "t1", "sip:bob@192.0.2.4")).unwrap();
    // A 2xx to a re-INVITE moves the target (§12.2.1.2).
    let reinvite = d.request(Method::INVITE, via("z9hG4bKre")).unwrap();
    let mut ok = Response::from_request(&reinvite, StatusCode::OK);
    ok.headers.push(sip_message::Header::new(sip_message::HeaderName::CONTACT, "<sip:bob@192.0.2.99>").unwrap());
    d.receive_response(&Method::INVITE, &ok).unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.99");
    assert_eq!(d.state(), DialogState::Confirmed);
    // A 2xx to INFO does not.
    let info = d.request(Method::INFO, via("z9hG4bKinfo")).unwrap();
    let mut ok = Response::from_request(&info, StatusCode::OK);
    ok.headers.push(sip_message::Header::new(sip_message::HeaderName::CONTACT, "<sip:bob@198.51.100.7>").unwrap());
    d.receive_response(&Method::INFO, &ok).unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.99");
    // A rejected re-INVITE leaves the dialog as it was.
    d.receive_response(&Method::INVITE, &Response::from_request(&reinvite, StatusCode::REQUEST_PENDING)).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
    // 481 (and 408) end it.
    let bye = d.request(Method::BYE, via("z9hG4bKbye")).unwrap();
    let gone = Response::from_request(&bye, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
    d.receive_response(&Method::BYE, &gone).unwrap();
    assert_eq!(d.state(), DialogState::Terminated);

    let mut d = Dialog::new_uac(&invite, &answer("200 OK", "t2", "sip:bob@192.0.2.4")).unwrap();
    let options = d.request(Method::OPTIONS, via("z9hG4bKopt")).unwrap();
    d.receive_response(&Method::OPTIONS, &Response::from_request(&options, StatusCode::REQUEST_TIMEOUT)).unwrap();
    assert_eq!(d.state(), DialogState::Terminated);
}

#[test]
fn uas_early_dialog_is_confirmed_or_ended_by_its_final_response() {
    let invite = req(INCOMING_INVITE);
    let contact = sip_message::Header::new(sip_message::HeaderName::CONTACT, "<sips:bob@192.0.2.4>").unwrap();
    let mut ringing = Response::from_request(&invite, StatusCode::RINGING).with_to_tag("early1").unwrap();
    ringing.headers.push(contact.clone());
    let mut d = Dialog::new_uas(&invite, &ringing).unwrap();
    assert_eq!(d.state(), DialogState::Early);
    let mut ok = Response::from_request(&invite, StatusCode::OK).with_to_tag("early1").unwrap();
    ok.headers.push(contact.clone());
    d.response_sent(&ok);
    assert_eq!(d.state(), DialogState::Confirmed);

    let mut d = Dialog::new_uas(&invite, &ringing).unwrap();
    d.response_sent(&Response::from_request(&invite, StatusCode::BUSY_HERE).with_to_tag("early1").unwrap());
    assert_eq!(d.state(), DialogState::Terminated);
}

#[test]
fn what_does_not_make_a_dialog() {
    let invite = req(INVITE);
    // Only 101–299 make dialogs.
    let busy = answer("486 Busy Here", "t", "sip:bob@192.0.2.4");
    assert_eq!(Dialog::new_uac(&invite, &busy).unwrap_err(), DialogError::NotDialogCreating(486));
    // A UAS needs the caller's Contact (400 otherwise) and its own tag.
    let no_contact = req(&INCOMING_INVITE.replace("Contact: <sips:alice@client.atlanta.example.com>\n", ""));
    let mut ok = Response::from_request(&no_contact, StatusCode::OK).with_to_tag("x").unwrap();
    ok.headers.push(sip_message::Header::new(sip_message::HeaderName::CONTACT, "<sips:bob@192.0.2.4>").unwrap());
    let err = Dialog::new_uas(&no_contact, &ok).unwrap_err();
    assert_eq!(err, DialogError::MissingHeader("Contact"));
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    let untagged = Response::from_request(&req(INCOMING_INVITE), StatusCode::OK);
    assert_eq!(Dialog::new_uas(&req(INCOMING_INVITE), &untagged).unwrap_err(), DialogError::MissingHeader("To tag"));
}

#[test]
fn cseq_stops_below_two_to_the_31() {
    let invite = req(&INVITE.replace("CSeq: 1 INVITE", &format!("CSeq: {MAX_CSEQ} INVITE")));
    let ok = answer("200 OK", "t", "sip:bob@192.0.2.4");
    let mut d = Dialog::new_uac(&invite, &ok).unwrap();
    assert_eq!(d.request(Method::BYE, via("z9hG4bKmax")).unwrap_err(), DialogError::CSeqExhausted);
    assert_eq!(d.local_seq(), Some(MAX_CSEQ));
}

#[test]
fn rfc2543_peer_without_tags() {
    // §12.1.2: a response without a To tag makes a dialog with an empty remote tag.
    let invite = req(INVITE);
    let ok = resp(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP client.atlanta.example.com:5060;branch=z9hG4bK74bf9
From: Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl
To: Bob <sip:bob@biloxi.example.com>
Call-ID: 3848276298220188511@atlanta.example.com
CSeq: 1 INVITE
Contact: <sip:bob@192.0.2.4>
Content-Length: 0

",
    );
    let mut dialogs = Dialogs::new();
    let id = DialogId::new("3848276298220188511@atlanta.example.com", "9fxced76sl", "");
    assert_eq!(dialogs.receive_uac_response(&invite, &ok).unwrap(), UacOutcome::Confirmed(id.clone()));
    let bye = dialogs.get_mut(&id).unwrap().request(Method::BYE, via("z9hG4bKold")).unwrap();
    assert_eq!(one(&bye, "To"), "Bob <sip:bob@biloxi.example.com>");
}

#[test]
fn a_confirmed_dialog_is_small() {
    let invite = req(INVITE);
    let d = Dialog::new_uac(&invite, &answer("200 OK", "8321234356", "sip:bob@192.0.2.4")).unwrap();
    let bytes = size_of::<Dialog>() + d.heap_bytes();
    assert!(bytes < 2048, "{bytes} bytes");
    // The dialog keeps copies, not the messages: its addresses are not slices of them.
    let address: &NameAddr = d.local_address();
    assert_eq!(address.as_bytes().len(), "Alice <sip:alice@atlanta.example.com>;tag=9fxced76sl".len());
}

#[test]
fn forks_and_dialogs_are_bounded() {
    // A peer answering with a new To tag every time cannot make dialogs without end.
    let invite = req(INVITE);
    let mut dialogs = Dialogs::new().with_limits(3, 100);
    for n in 0..3 {
        let r = answer("180 Ringing", &format!("b{n}"), "sip:bob@192.0.2.4");
        assert!(matches!(dialogs.receive_uac_response(&invite, &r).unwrap(), UacOutcome::Early(_)));
    }
    let fourth = answer("180 Ringing", "b3", "sip:bob@192.0.2.4");
    let err = dialogs.receive_uac_response(&invite, &fourth).unwrap_err();
    assert_eq!(err, DialogError::TooManyDialogs(3));
    assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(dialogs.len(), 3);
    // Known branches still work.
    let ok = answer("200 OK", "b1", "sip:bob@192.0.2.4");
    assert!(matches!(dialogs.receive_uac_response(&invite, &ok).unwrap(), UacOutcome::Confirmed(_)));

    // And the dialogs held in all.
    let mut dialogs = Dialogs::new().with_limits(32, 2);
    for n in 0..2 {
        let other = req(&INVITE.replace("Call-ID: 3848276298220188511@", &format!("Call-ID: {n}@")));
        let r = answer("200 OK", "t", "sip:bob@192.0.2.4");
        let text = String::from_utf8(r.to_bytes().to_vec())
            .unwrap()
            .replace("Call-ID: 3848276298220188511@", &format!("Call-ID: {n}@"));
        let Message::Response(r) = msg(&text.replace("\r\n", "\n")) else { panic!() };
        dialogs.receive_uac_response(&other, &r).unwrap();
    }
    let r = answer("200 OK", "t", "sip:bob@192.0.2.4");
    assert_eq!(dialogs.receive_uac_response(&invite, &r).unwrap_err(), DialogError::TooManyDialogs(2));
    let d = Dialog::new_uac(&invite, &r).unwrap();
    assert_eq!(dialogs.insert(d).unwrap_err(), DialogError::TooManyDialogs(2));
}

#[test]
fn a_request_names_its_dialog_and_the_kept_id_is_detached() {
    let bye = req("BYE sip:alice@client.atlanta.example.com SIP/2.0
Via: SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bKnashds8
Max-Forwards: 70
From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
To: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 231 BYE
Content-Length: 0

");
    let id = DialogId::of_request(&bye).unwrap().expect("a To tag: in a dialog");
    assert_eq!(
        (id.call_id(), id.local_tag(), id.remote_tag()),
        (&b"a84b4c76e66710"[..], &b"1928301774"[..], &b"a6c85cf"[..])
    );
    let kept = id.detached();
    assert_eq!(kept, id);
    let call_id = bye.headers.get(&sip_message::HeaderName::CALL_ID).unwrap().value();
    assert_eq!(id.call_id().as_ptr(), call_id.as_ptr(), "the looked-up id is slices of the request");
    assert_ne!(kept.call_id().as_ptr(), call_id.as_ptr(), "the kept one is not");
}
