//! Drives the two cores of `sip-ua` against each other, each behind its own transaction
//! layer: the UAC (calls, hold, resume, hang-up, registrations, subscriptions, single
//! requests) and the answering UAS, over a network the input controls (each message
//! delivered, lost, sent twice or held back), with arbitrary bytes injected on either side and time passing.
//! Nothing may panic; no deadline may be left in the past after `handle_timeout`; and once
//! every call is hung up, every subscription ended, every message delivered and five
//! minutes pass, neither core keeps a call, registration, subscription or request.
//!
//! Input: the first byte picks the UAS's policy (ring first, reject; or asking, when the
//! UAS accepts each call and each subscription and serves it as notifier); then records of
//! one op byte and its payload.
//! - `op % 7 == 0`: the UAC calls the UAS.
//! - `1`: the UAC sends OPTIONS (`u8 % 3 == 0`) or MESSAGE (`1`), or registers (`2`,
//!   `u8` below 128) or subscribes (`2`, `u8` from 128; the UAS refuses it unless asking).
//! - `2`: call `u8` (by position) is held, resumed or hung up (`u8 % 3`).
//! - `3`: the network takes message `u8` of the queue towards side `op & 0x80`: delivers
//!   it (`u8 % 4` 0 or 1), loses it (2) or delivers it twice (3).
//! - `4`: time passes: `u16` LE, in units of 10 ms.
//! - `5`: bytes arrive at side `op & 0x80` from its peer: `u16` LE length, the bytes.
//! - `6`: everything queued is delivered.

#![no_main]

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_dialog::{Entropy, SessionConfig};
use sip_message::header::{NameAddr, Transport};
use sip_message::{Message, Method, Request, StatusCode, Uri};
use sip_transaction::{Config, TransactionLayer};
use sip_transport::Target;
use sip_transport::rules::stamp_sent_by;
use sip_ua::answer::{self, AnswerPolicy, Answerer};
use sip_ua::uac::{self, Handle, Peer, Uac, UacConfig};

#[path = "common/input.rs"]
mod input;
use input::Input;

const UAC_ADDR: ([u8; 4], u16) = ([192, 0, 2, 1], 5060);
const UAS_ADDR: ([u8; 4], u16) = ([192, 0, 2, 2], 5090);

/// Most messages held in a queue; more are lost, as a full network loses them.
const MAX_QUEUE: usize = 64;

#[derive(Default)]
struct Counter(u64);

impl Entropy for Counter {
    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

fn target(a: ([u8; 4], u16)) -> Target {
    Target::new(Transport::UDP, SocketAddr::from(a))
}

struct World {
    now: Instant,
    uac: Uac<Counter>,
    uac_layer: TransactionLayer<Target>,
    uas: Answerer<Counter>,
    uas_layer: TransactionLayer<Target>,
    /// Messages on their way: to the UAS, to the UAC.
    to_uas: VecDeque<Bytes>,
    to_uac: VecDeque<Bytes>,
    calls: Vec<Handle>,
    subscriptions: Vec<Handle>,
}

fn stamped(mut request: Request, from: ([u8; 4], u16)) -> Request {
    let _ = stamp_sent_by(&mut request, &Transport::UDP, SocketAddr::from(from));
    request
}

fn queue(q: &mut VecDeque<Bytes>, bytes: Bytes) {
    if q.len() < MAX_QUEUE {
        q.push_back(bytes);
    }
}

impl World {
    fn new(policy: AnswerPolicy) -> Self {
        let session = SessionConfig { session_expires: Some(90), ..SessionConfig::default() };
        let mut config =
            UacConfig::new("sip:alice@192.0.2.1:5060".parse().unwrap(), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        config.session = session.clone();
        config.max_outstanding = 16;
        let policy = AnswerPolicy { max_calls: 16, ..policy };
        Self {
            now: Instant::now(),
            uac: Uac::with_entropy(config, Counter::default()),
            uac_layer: TransactionLayer::new(Config::default()),
            uas: Answerer::with_entropy(
                policy,
                "sip:bob@192.0.2.2:5090".parse().unwrap(),
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
                session,
                Counter(1 << 40),
            ),
            uas_layer: TransactionLayer::new(Config::default()),
            to_uas: VecDeque::new(),
            to_uac: VecDeque::new(),
            calls: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    fn peer(&self) -> Peer {
        let from = NameAddr::new("sip:alice@example.com".parse::<Uri>().unwrap());
        let mut peer = Peer::new("sip:bob@192.0.2.2:5090".parse().unwrap(), target(UAS_ADDR), from);
        peer.credentials = Some(sip_auth::DigestClient::new("alice", "secret"));
        peer
    }

    /// Moves events up and actions down on both sides until both are quiet.
    fn pump(&mut self) {
        let now = self.now;
        for _ in 0..10_000 {
            let mut busy = false;
            while let Some(event) = self.uac_layer.poll_event() {
                busy = true;
                // What the UAC leaves is a request outside its dialogs: nobody answers it.
                let _ = self.uac.handle_event(now, event);
            }
            while let Some(action) = self.uac.poll_action() {
                busy = true;
                match action {
                    uac::Action::Request { owner, request, target } => {
                        let request = stamped(request, UAC_ADDR);
                        match self.uac_layer.send_request(now, request.clone(), target, false) {
                            Ok(key) => self.uac.request_sent(owner, request, key),
                            Err(_) => self.uac.request_failed(now, owner, &request),
                        }
                    }
                    uac::Action::Ack { request, .. } => queue(&mut self.to_uas, stamped(request, UAC_ADDR).to_bytes()),
                    uac::Action::Respond { key, response } => {
                        let _ = self.uac_layer.send_response(now, &key, response);
                    }
                    uac::Action::Abandon { key } => {
                        let _ = self.uac_layer.abandon(&key);
                    }
                    uac::Action::Event(_) => {}
                }
            }
            while let Some(event) = self.uas_layer.poll_event() {
                busy = true;
                self.uas.handle_event(now, event);
            }
            while let Some(action) = self.uas.poll_action() {
                busy = true;
                match action {
                    answer::Action::Respond { key, response } => {
                        let _ = self.uas_layer.send_response(now, &key, response);
                    }
                    answer::Action::Request { dialog, request, target } => {
                        let request = stamped(request, UAS_ADDR);
                        match self.uas_layer.send_request(now, request.clone(), target, false) {
                            Ok(key) => self.uas.request_sent(dialog, request, key),
                            Err(_) => self.uas.request_failed(now, dialog, &request),
                        }
                    }
                    // Asking: every call accepted, every subscription served.
                    answer::Action::Offered { call, .. } => {
                        let _ = self.uas.accept(now, call);
                    }
                    answer::Action::Asked { handle, .. } => {
                        if self.uas.accept_subscription(now, handle, true, None).is_err() {
                            let _ = self.uas.answer_request_by_default(handle);
                        }
                    }
                    answer::Action::TransferRequested { call, .. } => {
                        let _ = self.uas.transfer_progress(now, call, StatusCode::DECLINE);
                    }
                    answer::Action::Report(_) | answer::Action::SubscriptionEnded { .. } => {}
                }
            }
            while let Some(t) = self.uac_layer.poll_transmit() {
                busy = true;
                queue(&mut self.to_uas, t.bytes);
            }
            while let Some(t) = self.uas_layer.poll_transmit() {
                busy = true;
                queue(&mut self.to_uac, t.bytes);
            }
            if !busy {
                return;
            }
        }
        panic!("the cores never went quiet");
    }

    fn receive(&mut self, to_uas: bool, bytes: Bytes) {
        let Ok(message) = Message::parse(bytes) else { return };
        if to_uas {
            self.uas_layer.handle_incoming(self.now, message, target(UAC_ADDR), false);
        } else {
            self.uac_layer.handle_incoming(self.now, message, target(UAS_ADDR), false);
        }
    }

    fn deliver_all(&mut self) {
        for _ in 0..1000 {
            if self.to_uas.is_empty() && self.to_uac.is_empty() {
                return;
            }
            while let Some(b) = self.to_uas.pop_front() {
                self.receive(true, b);
            }
            while let Some(b) = self.to_uac.pop_front() {
                self.receive(false, b);
            }
            self.pump();
        }
    }

    fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        for _ in 0..100_000 {
            let next = [
                self.uac_layer.poll_timeout(),
                self.uas_layer.poll_timeout(),
                self.uac.poll_timeout(),
                self.uas.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(at) = next.filter(|t| *t <= until) else { break };
            self.now = self.now.max(at);
            let now = self.now;
            self.uac_layer.handle_timeout(now);
            self.uas_layer.handle_timeout(now);
            self.uac.handle_timeout(now);
            self.uas.handle_timeout(now);
            for due in [self.uac.poll_timeout(), self.uas.poll_timeout()].into_iter().flatten() {
                assert!(due > now, "a deadline left in the past");
            }
            self.pump();
        }
        self.now = until;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let Some(shape) = input.u8() else { return };
    let policy = AnswerPolicy {
        ring: (shape & 1 != 0).then(|| Duration::from_millis(u64::from(shape >> 4) * 100)),
        reject: (shape & 2 != 0).then_some(StatusCode::BUSY_HERE),
        ask: shape & 4 != 0,
        ..AnswerPolicy::default()
    };
    let mut w = World::new(policy);
    while let Some(op) = input.u8() {
        let side_uas = op & 0x80 == 0;
        match op % 7 {
            0 => {
                // Bounded by the input's length and the UAC's own limit on calls at once.
                if let Ok(call) = w.uac.call(w.now, w.peer()) {
                    w.calls.push(call);
                }
            }
            1 => {
                let Some(which) = input.u8() else { break };
                let peer = w.peer();
                let _ = match which % 3 {
                    0 => w.uac.request(w.now, Method::OPTIONS, peer, None),
                    1 => w.uac.request(w.now, Method::MESSAGE, peer, None),
                    _ if which >= 0x80 => w.uac.subscribe(w.now, peer, "presence", 60, None).inspect(|&s| {
                        w.subscriptions.push(s);
                    }),
                    _ => {
                        let aor = peer.from.clone();
                        let contact = NameAddr::new("sip:alice@192.0.2.1:5060".parse::<Uri>().unwrap());
                        w.uac.register(w.now, peer, aor, contact, 60)
                    }
                };
            }
            2 => {
                let (Some(i), Some(what)) = (input.u8(), input.u8()) else { break };
                if let Some(&call) = w.calls.get(usize::from(i) % w.calls.len().max(1)) {
                    let _ = match what % 3 {
                        0 => w.uac.hold(w.now, call),
                        1 => w.uac.resume(w.now, call),
                        _ => w.uac.hangup(w.now, call),
                    };
                }
            }
            3 => {
                let Some(pick) = input.u8() else { break };
                let q = if side_uas { &mut w.to_uas } else { &mut w.to_uac };
                if q.is_empty() {
                    continue;
                }
                let i = usize::from(pick >> 2) % q.len();
                let Some(bytes) = q.remove(i) else { continue };
                match pick % 4 {
                    0 | 1 => w.receive(side_uas, bytes),
                    2 => {}
                    _ => {
                        w.receive(side_uas, bytes.clone());
                        w.receive(side_uas, bytes);
                    }
                }
            }
            4 => {
                let Some(steps) = input.u16() else { break };
                w.advance(Duration::from_millis(u64::from(steps) * 10));
            }
            5 => {
                let Some(bytes) = input.bytes() else { break };
                w.receive(side_uas, bytes);
            }
            _ => w.deliver_all(),
        }
        w.pump();
    }
    // Every call hung up, every message delivered, five minutes later: nothing is left.
    for call in w.calls.clone() {
        let _ = w.uac.hangup(w.now, call);
    }
    for subscription in w.subscriptions.clone() {
        let _ = w.uac.unsubscribe(w.now, subscription);
    }
    w.pump();
    for _ in 0..40 {
        w.deliver_all();
        w.advance(Duration::from_secs(10));
    }
    w.deliver_all();
    assert_eq!(w.uac.outstanding(), 0, "the UAC keeps something after five quiet minutes");
    assert_eq!(w.uas.calls(), 0, "the UAS keeps a call after five quiet minutes");
    assert_eq!(w.uas.subscriptions(), 0, "the UAS keeps a subscription after five quiet minutes");
});
