//! Drives the transaction layer with an arbitrary sequence of operations: messages
//! received (any bytes that parse), requests sent, answers from the layer above and from
//! the peer, transport errors, and time steps. Nothing may panic; no timer may be set in
//! the past; nothing is reported for a transaction after it terminated (unless a request
//! starts it again); and once every request is answered and 65 s pass, the layer is empty.
//!
//! Input: records of one op byte and its payload.
//! - `op % 6 == 0`: a received message: `u16` LE length, then the bytes (`op & 0x80`:
//!   reliable transport).
//! - `1`: a request to send: `u16` LE length, then the bytes.
//! - `2`: time passes: `u16` LE, in units of 10 ms.
//! - `3`: the layer above answers server transaction `u8` with status `u16` LE.
//! - `4`: a transport error for transaction `u8`; with `op & 0x80`, the layer above
//!   abandons client transaction `u8` instead.
//! - `5`: the peer answers client transaction `u8` with status `u16` LE.

#![no_main]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use sip_message::{Message, Method, Request, Response, StatusCode};
use sip_transaction::{Config, Event, TransactionKey, TransactionLayer};

#[path = "common/input.rs"]
mod input;
use input::Input;

fn status(n: u16) -> StatusCode {
    StatusCode::new(100 + n % 600).unwrap_or(StatusCode::OK)
}

fn answer(request: &Request, status: StatusCode) -> Response {
    let r = Response::from_request(request, status);
    if status == StatusCode::TRYING { r.clone() } else { r.clone().with_to_tag("fz").unwrap_or(r) }
}

struct World {
    layer: TransactionLayer<u8>,
    now: Instant,
    servers: Vec<(TransactionKey, Request)>,
    clients: Vec<(TransactionKey, Request)>,
    terminated: HashSet<TransactionKey>,
}

impl World {
    fn drain(&mut self) {
        while self.layer.poll_transmit().is_some() {}
        while let Some(e) = self.layer.poll_event() {
            match e {
                Event::Terminated { key } => assert!(self.terminated.insert(key), "terminated twice"),
                Event::Request { key: Some(key), request, .. } => {
                    if self.terminated.remove(&key) {
                        assert!(request.method != Method::ACK, "ACK for a terminated transaction");
                    }
                    if request.method != Method::ACK && self.servers.len() < 256 {
                        self.servers.push((key, request));
                    }
                }
                Event::Response { key, .. } | Event::Timeout { key, .. } | Event::TransportError { key } => {
                    assert!(!self.terminated.contains(&key), "event for a terminated transaction");
                }
                Event::Request { key: None, .. } | Event::StrayResponse { .. } => {}
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        let end = self.now + by;
        while let Some(at) = self.layer.poll_timeout() {
            assert!(at >= self.now, "timer in the past");
            if at > end {
                break;
            }
            self.now = at;
            self.layer.handle_timeout(at);
            self.drain();
        }
        self.now = end;
    }
}

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut world = World {
        layer: TransactionLayer::new(Config { max_transactions: 64, ..Config::default() }),
        now: start,
        servers: Vec::new(),
        clients: Vec::new(),
        terminated: HashSet::new(),
    };
    let mut input = Input(data);
    while let Some(op) = input.u8() {
        match op & 0x7f {
            o if o % 6 == 0 => {
                let Some(bytes) = input.bytes() else { break };
                if let Ok(m) = Message::parse(bytes) {
                    world.layer.handle_incoming(world.now, m, op, op & 0x80 != 0);
                }
            }
            o if o % 6 == 1 => {
                let Some(bytes) = input.bytes() else { break };
                if let Ok(Message::Request(r)) = Message::parse(bytes) {
                    if let Ok(key) = world.layer.send_request(world.now, r.clone(), op, op & 0x80 != 0) {
                        world.terminated.remove(&key);
                        world.clients.push((key, r));
                    }
                }
            }
            o if o % 6 == 2 => {
                let Some(n) = input.u16() else { break };
                world.advance(Duration::from_millis(u64::from(n) * 10));
            }
            o if o % 6 == 3 => {
                let (Some(i), Some(s)) = (input.u8(), input.u16()) else { break };
                if let Some((key, request)) = world.servers.get(usize::from(i) % world.servers.len().max(1)).cloned() {
                    let _ = world.layer.send_response(world.now, &key, answer(&request, status(s)));
                }
            }
            o if o % 6 == 4 && op & 0x80 != 0 => {
                let Some(i) = input.u8() else { break };
                if let Some((key, _)) = world.clients.get(usize::from(i) % world.clients.len().max(1)).cloned() {
                    // Refused only for a transaction already gone.
                    let known = world.layer.contains(&key);
                    assert_eq!(world.layer.abandon(&key).is_ok(), known, "abandon of a live client transaction");
                }
            }
            o if o % 6 == 4 => {
                let Some(i) = input.u8() else { break };
                let all: Vec<_> = world.servers.iter().chain(&world.clients).map(|(k, _)| k.clone()).collect();
                if let Some(key) = all.get(usize::from(i) % all.len().max(1)) {
                    world.layer.handle_transport_error(world.now, key);
                }
            }
            _ => {
                let (Some(i), Some(s)) = (input.u8(), input.u16()) else { break };
                if let Some((_, request)) = world.clients.get(usize::from(i) % world.clients.len().max(1)).cloned() {
                    world.layer.handle_incoming(world.now, Message::Response(answer(&request, status(s))), 0, false);
                }
            }
        }
        world.drain();
    }
    // Every request answered finally, then 65 s: nothing may remain.
    for (key, request) in world.servers.clone() {
        let _ = world.layer.send_response(world.now, &key, answer(&request, StatusCode::SERVER_INTERNAL_ERROR));
    }
    for (_, request) in world.clients.clone() {
        let response = answer(&request, StatusCode::SERVER_INTERNAL_ERROR);
        world.layer.handle_incoming(world.now, Message::Response(response), 0, false);
    }
    world.drain();
    world.advance(Duration::from_secs(65));
    assert_eq!(world.layer.len(), 0, "transactions left after every request was answered");
});
