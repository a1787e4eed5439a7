//! Drives the dialogs of a UA, and the INVITE sessions on them, with an arbitrary sequence
//! of messages received (any bytes that parse), dialog-creating requests sent, in-dialog
//! requests built, session actions, time steps and dialogs ended. Nothing may panic; the
//! CSeq of the requests a dialog builds only grows; each goes to the dialog's target or its
//! first (strict) route; the count of dialogs stays right; a session sends nothing after it
//! ended and its timers are never due after `handle_timeout`.
//!
//! Input: records of one op byte and its payload.
//! - `op % 6 == 0`: a received message: `u16` LE length, then the bytes. A request outside
//!   any dialog that may create one makes a UAS dialog (and, for INVITE, a session); an
//!   in-dialog one goes to its dialog and to its session; a response goes to the last
//!   request sent outside a dialog when it matches it (a 2xx to an INVITE then makes a UAC
//!   session), else to the dialogs and sessions it names.
//! - `1`: an INVITE is sent outside a dialog: `u16` LE length, then its bytes.
//! - `2`: dialog `u8` (by position) builds a request of method `u8`.
//! - `3`: dialog `u8` ends; then every ended dialog is removed.
//! - `4`: time passes: `u16` LE, in units of 10 ms; every session's due timers fire.
//! - `5`: session `u8` (by position) does action `u8`: ring, accept, reject, hold, resume,
//!   update, bye, INFO, progress (a reliable 183 with SDP), REFER (a transfer, whose
//!   subscription then follows the NOTIFYs and responses received and its own expiry).

#![no_main]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use sip_dialog::{
    Dialog, DialogId, Dialogs, Entropy, InviteSession, Output, SessionConfig, Subscription, SubscriptionConfig,
    UacOutcome,
};
use sip_message::header::{Transport, Via};
use sip_message::{Header, HeaderName, Message, Method, Request, Response, StatusCode, Uri};
use sip_sdp::{Capabilities, Codec, MediaCapability, Negotiator};

#[path = "common/input.rs"]
mod input;
use input::Input;

const METHODS: [Method; 8] = [
    Method::INVITE,
    Method::UPDATE,
    Method::INFO,
    Method::BYE,
    Method::OPTIONS,
    Method::SUBSCRIBE,
    Method::NOTIFY,
    Method::REFER,
];

/// Most sessions held at once.
const MAX_SESSIONS: usize = 16;

struct Counter(u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 11
    }
}

type Session = InviteSession<Counter>;
type Sub = Subscription<Counter>;

/// Drains a subscription, checking what it sends parses, and that it sends no request
/// when it had ended before the input (`ended_before`) that made these outputs.
fn drain_sub(s: &mut Sub, ended_before: bool) {
    while let Some(out) = s.poll_output() {
        match out {
            Output::Request(r) => {
                assert!(!ended_before, "{} after the end", r.method);
                assert!(Message::parse(r.to_bytes()).is_ok());
            }
            Output::Response(r) => assert!(Message::parse(r.to_bytes()).is_ok()),
            Output::Event(_) => {}
        }
    }
    while s.poll_event().is_some() {}
}

fn via(n: u32) -> Via {
    let host = "fuzz.example.com".parse().expect("host");
    Via::new(&Transport::UDP, &host, None).with_branch(&format!("z9hG4bKf{n}")).expect("branch")
}

fn negotiator() -> Negotiator {
    let caps = Capabilities::new(
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        vec![MediaCapability::audio(40000, vec![Codec::pcmu(), Codec::pcma(), Codec::telephone_event()])],
    );
    Negotiator::new(caps, 42)
}

fn answer(request: &Request) -> Option<Response> {
    let mut ok = Response::from_request(request, StatusCode::OK).with_to_tag("uas1").ok()?;
    ok.headers.push(Header::new(HeaderName::CONTACT, "<sip:uas@192.0.2.1>").ok()?);
    Some(ok)
}

/// Drains a session, checking it sends no request once it has ended (except the BYE
/// that ends it, which comes before the end is reported).
fn drain(s: &mut Session) {
    let mut ended = false;
    while let Some(out) = s.poll_output() {
        match out {
            Output::Request(r) => {
                assert!(!ended || r.method == Method::ACK, "{} after the end", r.method);
                assert!(Message::parse(r.to_bytes()).is_ok(), "a request the session built parses");
            }
            Output::Response(r) => {
                assert!(Message::parse(r.to_bytes()).is_ok(), "a response the session built parses");
            }
            Output::Event(sip_dialog::SessionEvent::Ended(_)) => ended = true,
            Output::Event(_) => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut dialogs = Dialogs::new();
    let mut sessions: Vec<(DialogId, Session)> = Vec::new();
    let mut subs: Vec<(DialogId, Sub)> = Vec::new();
    let mut outgoing: Option<Request> = None;
    let mut last_seq: HashMap<DialogId, u32> = HashMap::new();
    let start = Instant::now();
    let mut now = start;
    let mut n = 0u32;
    let contact: Uri = "sip:uas@192.0.2.1".parse().expect("uri");
    while let Some(op) = input.u8() {
        n += 1;
        match op % 6 {
            0 => {
                let Some(bytes) = input.bytes() else { break };
                match Message::parse(bytes) {
                    Ok(Message::Request(r)) => {
                        if let Ok(Some(id)) = DialogId::of_request(&r) {
                            if let Some((_, s)) = sessions.iter_mut().find(|(i, _)| *i == id) {
                                s.receive_request(now, &r);
                                drain(s);
                            }
                            if let Some((_, s)) = subs.iter_mut().find(|(i, _)| *i == id) {
                                let ended = s.is_terminated();
                                s.receive_request(now, &r);
                                drain_sub(s, ended);
                            }
                        } else if r.method == Method::SUBSCRIBE && subs.len() < MAX_SESSIONS {
                            if let Ok(d) = Dialog::new_uas_early(&r, &format!("n{n}"), &contact) {
                                let id = d.id().clone();
                                let config = SubscriptionConfig::default();
                                if let Ok(mut s) =
                                    Subscription::notifier(now, d, &r, n % 2 == 0, None, config, Counter(u64::from(n)))
                                {
                                    drain_sub(&mut s, false);
                                    subs.push((id, s));
                                }
                            }
                        } else if r.method == Method::CANCEL {
                            for (_, s) in &mut sessions {
                                s.receive_cancel(&r);
                                drain(s);
                            }
                        }
                        match dialogs.receive_request(&r) {
                            Ok(None) if r.method == Method::INVITE || r.method == Method::SUBSCRIBE => {
                                if let Some(ok) = answer(&r) {
                                    if let Ok(d) = Dialog::new_uas(&r, &ok) {
                                        // A dialog made again under the same id starts over.
                                        last_seq.remove(d.id());
                                        let _ = dialogs.insert(d);
                                    }
                                }
                                if r.method == Method::INVITE && sessions.len() < MAX_SESSIONS {
                                    if let Ok(d) = Dialog::new_uas_early(&r, &format!("s{n}"), &contact) {
                                        let id = d.id().clone();
                                        let config = SessionConfig::default();
                                        if let Ok(s) = InviteSession::uas(
                                            d,
                                            r.clone(),
                                            negotiator(),
                                            config,
                                            Counter(u64::from(n)),
                                        ) {
                                            sessions.push((id, s));
                                        }
                                    }
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                let status = e.status().as_u16();
                                assert!(matches!(status, 400 | 481 | 500), "{e}: {status}");
                            }
                        }
                    }
                    Ok(Message::Response(resp)) => {
                        let Some(Ok(cseq)) = resp.headers.cseq() else { continue };
                        if let Ok(id) = DialogId::of_response(&resp) {
                            if let Some((_, s)) = sessions.iter_mut().find(|(i, _)| *i == id) {
                                let _ = s.receive_response(now, &resp);
                                drain(s);
                            }
                        }
                        match &outgoing {
                            Some(req) if cseq.method == req.method => {
                                if let Ok(UacOutcome::Confirmed(id)) = dialogs.receive_uac_response(req, &resp) {
                                    let known = sessions.iter().any(|(i, _)| *i == id);
                                    if let Some(d) =
                                        dialogs.get(&id).filter(|_| !known && sessions.len() < MAX_SESSIONS)
                                    {
                                        let config = SessionConfig::default();
                                        let made = InviteSession::uac(
                                            now,
                                            d.clone(),
                                            req,
                                            &resp,
                                            negotiator(),
                                            config,
                                            Counter(u64::from(n)),
                                        );
                                        if let Ok(mut s) = made {
                                            drain(&mut s);
                                            sessions.push((id, s));
                                        }
                                    }
                                }
                            }
                            _ => {
                                let _ = dialogs.receive_response(&cseq.method, &resp);
                            }
                        }
                    }
                    Err(_) => {}
                }
            }
            1 => {
                let Some(bytes) = input.bytes() else { break };
                if let Ok(Message::Request(r)) = Message::parse(bytes) {
                    outgoing = Some(r);
                }
            }
            2 => {
                let (Some(which), Some(m)) = (input.u8(), input.u8()) else { break };
                let Some(id) = dialogs.iter().nth(usize::from(which)).map(|d| d.id().clone()) else { continue };
                let Some(d) = dialogs.get_mut(&id) else { continue };
                let (target, _) = d.request_target();
                if let Ok(r) = d.request(METHODS[usize::from(m) % METHODS.len()].clone(), via(n)) {
                    let seq = r.headers.cseq().expect("built CSeq").expect("built CSeq").seq;
                    if let Some(&last) = last_seq.get(&id) {
                        assert!(seq > last, "CSeq {seq} after {last}");
                    }
                    last_seq.insert(id, seq);
                    assert_eq!(r.uri, target, "the Request-URI is the dialog's target or strict route");
                    // What the dialog built parses back.
                    assert!(Message::parse(r.to_bytes()).is_ok());
                }
            }
            3 => {
                let Some(which) = input.u8() else { break };
                let id = dialogs.iter().nth(usize::from(which)).map(|d| d.id().clone());
                if let Some(id) = id {
                    if let Some(d) = dialogs.get_mut(&id) {
                        d.terminate();
                    }
                }
                for id in dialogs.remove_terminated() {
                    last_seq.remove(&id);
                }
            }
            4 => {
                let Some(step) = input.u16() else { break };
                now += Duration::from_millis(u64::from(step) * 10);
                for (_, s) in &mut sessions {
                    s.handle_timeout(now);
                    drain(s);
                    assert!(s.poll_timeout().is_none_or(|t| t > now), "a timer due after handle_timeout");
                }
                sessions.retain(|(_, s)| !s.is_ended());
                for (_, s) in &mut subs {
                    let ended = s.is_terminated();
                    s.handle_timeout(now);
                    drain_sub(s, ended);
                    assert!(s.poll_timeout().is_none_or(|t| t > now), "a subscription timer due after handle_timeout");
                }
                subs.retain(|(_, s)| !s.is_terminated());
            }
            _ => {
                let (Some(which), Some(action)) = (input.u8(), input.u8()) else { break };
                let count = sessions.len();
                let Some((_, s)) = sessions.get_mut(usize::from(which) % count.max(1)) else { continue };
                let ended = s.is_ended();
                let result = match action % 10 {
                    9 => s.refer(&contact),
                    8 => s.progress(now, StatusCode::SESSION_PROGRESS),
                    0 => s.ring(now, StatusCode::RINGING),
                    1 => s.accept(now),
                    2 => s.reject(StatusCode::BUSY_HERE),
                    3 => s.hold(),
                    4 => s.resume(),
                    5 => s.update(negotiator().create_offer()),
                    6 => s.bye(),
                    _ => s.request(Method::INFO, |_| {}),
                };
                if ended {
                    assert!(result.is_err() || matches!(action % 10, 0..=2 | 8), "an ended session sent a request");
                }
                drain(s);
            }
        }
        assert_eq!(dialogs.len(), dialogs.iter().count());
    }
});
