//! Random sequences of inputs (requests both ways, responses, retransmissions, ACKs,
//! transport errors, stray messages, time jumps): nothing is sent or reported for a
//! transaction after it terminated, and once every request has been answered every
//! transaction terminates within the RFC's bound, leaving the layer empty.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use bytes::Bytes;
use proptest::prelude::*;
use sip_message::{Message, Request, Response, StatusCode};
use sip_transaction::{Config, Event, TransactionKey, TransactionLayer};

#[derive(Debug, Clone)]
enum Op {
    SendInvite { reliable: bool },
    SendOther { reliable: bool },
    ReceiveInvite { reliable: bool },
    ReceiveOther { reliable: bool },
    Retransmit(usize),
    PeerAnswers { index: usize, status: u16 },
    Respond { index: usize, status: u16 },
    Ack(usize),
    TransportError(usize),
    Stray,
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    let status = prop::sample::select(vec![100u16, 180, 183, 200, 202, 302, 404, 486, 500, 603]);
    prop_oneof![
        any::<bool>().prop_map(|reliable| Op::SendInvite { reliable }),
        any::<bool>().prop_map(|reliable| Op::SendOther { reliable }),
        any::<bool>().prop_map(|reliable| Op::ReceiveInvite { reliable }),
        any::<bool>().prop_map(|reliable| Op::ReceiveOther { reliable }),
        (0usize..8).prop_map(Op::Retransmit),
        ((0usize..8), status.clone()).prop_map(|(index, status)| Op::PeerAnswers { index, status }),
        ((0usize..8), status).prop_map(|(index, status)| Op::Respond { index, status }),
        (0usize..8).prop_map(Op::Ack),
        (0usize..8).prop_map(Op::TransportError),
        Just(Op::Stray),
        (0u64..40_000).prop_map(Op::Advance),
    ]
}

fn request(method: &str, branch: &str, to_tag: &str) -> Request {
    let text = format!(
        "{method} sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch={branch}\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: <sip:bob@biloxi.example.com>{to_tag}\r\n\
Call-ID: {branch}@pc33.atlanta.example.com\r\n\
CSeq: 1 {method}\r\n\
Content-Length: 0\r\n\r\n"
    );
    match Message::parse(Bytes::from(text)).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

fn response(to: &Request, status: u16) -> Response {
    let status = StatusCode::new(status).unwrap();
    let r = Response::from_request(to, status);
    if status == StatusCode::TRYING { r } else { r.with_to_tag("t1").unwrap() }
}

/// One transaction as the test knows it: its request, its key once known, its peer.
struct Known {
    request: Request,
    key: Option<TransactionKey>,
    peer: u32,
}

struct World {
    layer: TransactionLayer<u32>,
    now: Instant,
    clients: Vec<Known>,
    servers: Vec<Known>,
    next: u32,
    /// Peers (one per transaction) whose transaction terminated.
    terminated_peers: HashSet<u32>,
    terminated: HashSet<TransactionKey>,
    peer_of: HashMap<TransactionKey, u32>,
}

impl World {
    fn drain(&mut self) -> Result<(), TestCaseError> {
        while let Some(t) = self.layer.poll_transmit() {
            prop_assert!(!self.terminated_peers.contains(&t.to), "sent for a terminated transaction");
        }
        while let Some(e) = self.layer.poll_event() {
            match e {
                Event::Terminated { key } => {
                    prop_assert!(self.terminated.insert(key.clone()), "terminated twice");
                    if let Some(p) = self.peer_of.get(&key) {
                        self.terminated_peers.insert(*p);
                    }
                }
                Event::Request { key: Some(key), from, request, .. } => {
                    // A request retransmitted after its transaction ended starts a new
                    // one (the layer keeps nothing of the old); an ACK never does.
                    if self.terminated.contains(&key) {
                        prop_assert!(request.method != sip_message::Method::ACK, "ACK for a terminated transaction");
                        self.terminated.remove(&key);
                        self.terminated_peers.remove(&from);
                    }
                    self.peer_of.entry(key.clone()).or_insert(from);
                    if let Some(s) = self.servers.iter_mut().find(|s| s.peer == from && s.key.is_none()) {
                        s.key = Some(key);
                    }
                }
                Event::Response { key, .. } | Event::Timeout { key, .. } | Event::TransportError { key } => {
                    prop_assert!(!self.terminated.contains(&key), "event for a terminated transaction");
                }
                Event::Request { key: None, .. } | Event::StrayResponse { .. } => {}
            }
        }
        Ok(())
    }

    fn peer(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::SendInvite { reliable } | Op::SendOther { reliable } => {
                let peer = self.peer();
                let method = if matches!(op, Op::SendInvite { .. }) { "INVITE" } else { "OPTIONS" };
                let r = request(method, &format!("z9hG4bKc{peer}"), "");
                let key = self.layer.send_request(self.now, r.clone(), peer, *reliable).ok();
                if let Some(k) = &key {
                    self.peer_of.insert(k.clone(), peer);
                }
                self.clients.push(Known { request: r, key, peer });
            }
            Op::ReceiveInvite { reliable } | Op::ReceiveOther { reliable } => {
                let peer = self.peer();
                let method = if matches!(op, Op::ReceiveInvite { .. }) { "INVITE" } else { "MESSAGE" };
                let r = request(method, &format!("z9hG4bKs{peer}"), "");
                self.servers.push(Known { request: r.clone(), key: None, peer });
                self.layer.handle_incoming(self.now, Message::Request(r), peer, *reliable);
            }
            Op::Retransmit(i) => {
                if let Some(s) = self.servers.get(*i % self.servers.len().max(1)) {
                    self.layer.handle_incoming(self.now, Message::Request(s.request.clone()), s.peer, false);
                }
            }
            Op::PeerAnswers { index, status } => {
                if let Some(c) = self.clients.get(*index % self.clients.len().max(1)) {
                    let r = response(&c.request, *status);
                    self.layer.handle_incoming(self.now, Message::Response(r), c.peer, false);
                }
            }
            Op::Respond { index, status } => {
                if let Some(s) = self.servers.get(*index % self.servers.len().max(1)) {
                    if let Some(key) = &s.key {
                        // Refusals (a second final, ...) are fine; they must change nothing.
                        let _ = self.layer.send_response(self.now, key, response(&s.request, *status));
                    }
                }
            }
            Op::Ack(i) => {
                if let Some(s) = self.servers.get(*i % self.servers.len().max(1)) {
                    let branch = format!("z9hG4bKs{}", s.peer);
                    let ack = request("ACK", &branch, ";tag=t1");
                    self.layer.handle_incoming(self.now, Message::Request(ack), s.peer, false);
                }
            }
            Op::TransportError(i) => {
                let all: Vec<TransactionKey> =
                    self.clients.iter().chain(&self.servers).filter_map(|k| k.key.clone()).collect();
                if let Some(key) = all.get(*i % all.len().max(1)) {
                    self.layer.handle_transport_error(self.now, key);
                }
            }
            Op::Stray => {
                let r = response(&request("OPTIONS", "z9hG4bKstray", ""), 200);
                self.layer.handle_incoming(self.now, Message::Response(r), 0, false);
            }
            Op::Advance(ms) => self.advance(Duration::from_millis(*ms))?,
        }
        self.drain()
    }

    fn advance(&mut self, by: Duration) -> Result<(), TestCaseError> {
        let end = self.now + by;
        while let Some(at) = self.layer.poll_timeout() {
            prop_assert!(at >= self.now, "a deadline in the past");
            if at > end {
                break;
            }
            self.now = self.now.max(at);
            self.layer.handle_timeout(self.now);
            self.drain()?;
        }
        self.now = end;
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn transactions_always_end(ops in prop::collection::vec(op(), 1..60)) {
        let mut world = World {
            layer: TransactionLayer::new(Config::default()),
            now: Instant::now(),
            clients: Vec::new(),
            servers: Vec::new(),
            next: 0,
            terminated_peers: HashSet::new(),
            terminated: HashSet::new(),
            peer_of: HashMap::new(),
        };
        for op in &ops {
            world.apply(op)?;
        }
        // Every request gets its final answer: the layer above answers each server
        // transaction, the peer each client one.
        let servers: Vec<_> = world.servers.iter().filter_map(|s| s.key.clone().map(|k| (k, s.request.clone()))).collect();
        for (key, request) in servers {
            let _ = world.layer.send_response(world.now, &key, response(&request, 500));
        }
        let clients: Vec<_> = world.clients.iter().map(|c| (c.request.clone(), c.peer)).collect();
        for (request, peer) in clients {
            world.layer.handle_incoming(world.now, Message::Response(response(&request, 500)), peer, false);
        }
        world.drain()?;
        // Then within 64·T1 (Timers B, F, H, J, L, M) plus Timer D's 32 s, all is gone.
        world.advance(Duration::from_secs(32 + 32 + 1))?;
        prop_assert_eq!(world.layer.len(), 0);
        prop_assert_eq!(world.layer.poll_timeout(), None);
        prop_assert_eq!(world.layer.memory_bytes(), 0);
        for key in world.peer_of.keys() {
            prop_assert!(world.terminated.contains(key), "{} never terminated", key);
        }
    }
}
