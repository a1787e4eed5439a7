//! Drives the dialogs of a UA with an arbitrary sequence of messages received (any bytes
//! that parse), dialog-creating requests sent, in-dialog requests built and dialogs ended.
//! Nothing may panic; the CSeq of the requests a dialog builds only grows; each goes to
//! the dialog's target or its first (strict) route; the count of dialogs stays right.
//!
//! Input: records of one op byte and its payload.
//! - `op % 4 == 0`: a received message: `u16` LE length, then the bytes. A request outside
//!   any dialog that may create one is answered 200 with a tag and makes a UAS dialog; a
//!   response goes to the last request sent outside a dialog when it matches it.
//! - `1`: an INVITE is sent outside a dialog: `u16` LE length, then its bytes (kept when
//!   they parse as a request).
//! - `2`: dialog `u8` (by position) builds a request of method `u8`.
//! - `3`: dialog `u8` ends; then every ended dialog is removed.

#![no_main]

use std::collections::HashMap;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_dialog::{Dialog, DialogId, Dialogs};
use sip_message::header::{Transport, Via};
use sip_message::{Header, HeaderName, Message, Method, Request, Response, StatusCode};

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) | (u16::from(self.u8()?) << 8))
    }

    fn bytes(&mut self) -> Option<Bytes> {
        let n = usize::from(self.u16()?).min(self.0.len());
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(Bytes::copy_from_slice(b))
    }
}

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

fn via(n: u32) -> Via {
    let host = "fuzz.example.com".parse().expect("host");
    Via::new(&Transport::UDP, &host, None).with_branch(&format!("z9hG4bKf{n}")).expect("branch")
}

fn answer(request: &Request) -> Option<Response> {
    let mut ok = Response::from_request(request, StatusCode::OK).with_to_tag("uas1").ok()?;
    ok.headers.push(Header::new(HeaderName::CONTACT, "<sip:uas@192.0.2.1>").ok()?);
    Some(ok)
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut dialogs = Dialogs::new();
    let mut outgoing: Option<Request> = None;
    let mut last_seq: HashMap<DialogId, u32> = HashMap::new();
    let mut n = 0u32;
    while let Some(op) = input.u8() {
        n += 1;
        match op % 4 {
            0 => {
                let Some(bytes) = input.bytes() else { break };
                match Message::parse(bytes) {
                    Ok(Message::Request(r)) => match dialogs.receive_request(&r) {
                        Ok(None) if r.method == Method::INVITE || r.method == Method::SUBSCRIBE => {
                            if let Some(ok) = answer(&r) {
                                if let Ok(d) = Dialog::new_uas(&r, &ok) {
                                    // A dialog made again under the same id starts over.
                                    last_seq.remove(d.id());
                                    dialogs.insert(d);
                                }
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            let status = e.status().as_u16();
                            assert!(matches!(status, 400 | 481 | 500), "{e}: {status}");
                        }
                    },
                    Ok(Message::Response(resp)) => {
                        let Some(Ok(cseq)) = resp.headers.cseq() else { continue };
                        match &outgoing {
                            Some(req) if cseq.method == req.method => {
                                let _ = dialogs.receive_uac_response(req, &resp);
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
            _ => {
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
        }
        assert_eq!(dialogs.len(), dialogs.iter().count());
    }
});
