//! The transaction layer: the live transactions, their timers, and the queues of what to
//! send and what to tell the layer above.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hashbrown::HashTable;
use sip_message::header::{CSeq, MaxForwards};
use sip_message::{Header, HeaderName, Headers, Message, Method, Request, Response, StatusCode};

use crate::deadlines::{Deadline, Deadlines};
use crate::key::{cseq, top_via};
use crate::{Config, Event, Timer, TransactionError, TransactionKey, Transmit};

/// The four machines of §17.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    InviteClient,
    NonInviteClient,
    InviteServer,
    NonInviteServer,
}

/// The states of the four machines (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2, RFC 6026).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// INVITE client, before any response.
    Calling,
    /// Non-INVITE client or server, before any response.
    Trying,
    /// A provisional response was received or sent.
    Proceeding,
    /// A final response (non-2xx for INVITE) was received or sent.
    Completed,
    /// INVITE server: the ACK for the non-2xx arrived.
    Confirmed,
    /// INVITE, RFC 6026: a 2xx was received or sent.
    Accepted,
}

#[derive(Debug)]
struct Transaction<P> {
    /// Where it lives in the slab, and which occupant of that place it is (timers set
    /// for an earlier occupant are stale).
    slot: usize,
    generation: u64,
    key: TransactionKey,
    kind: Kind,
    state: State,
    peer: P,
    reliable: bool,
    /// Client: the request as sent, for retransmissions (and to build the ACK).
    request: Bytes,
    /// Server: the last response sent, to send again on a retransmitted request; client
    /// INVITE: the ACK for a non-2xx final response, to send again.
    response: Option<Bytes>,
    /// Server INVITE: the 100 Trying to send if the layer above stays silent, encoded only
    /// then (it answers first, most of the time).
    trying: Option<Box<Response>>,
    /// The current retransmission interval of Timer A, E or G.
    interval: Duration,
    /// The running timers: at most two at once (A and B, E and F, G and H).
    timers: Timers,
}

/// Timer D for unreliable transports: "at least 32 seconds" (§17.1.1.2).
const TIMER_D: Duration = Duration::from_secs(32);

/// Slots per chunk of a [`Slab`].
const CHUNK: usize = 256;

/// Values in fixed-size chunks, reached by slot number: at most one partly used chunk of
/// slack, where a growing `Vec` would keep up to as much again as it holds.
#[derive(Debug)]
struct Slab<T> {
    chunks: Vec<Box<[Option<T>]>>,
    free: Vec<usize>,
    /// Slots handed out so far (the ones below are in a chunk).
    next: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self { chunks: Vec::new(), free: Vec::new(), next: 0 }
    }
}

impl<T> Slab<T> {
    fn get(&self, slot: usize) -> Option<&T> {
        self.chunks.get(slot / CHUNK)?.get(slot % CHUNK)?.as_ref()
    }

    fn get_mut(&mut self, slot: usize) -> Option<&mut T> {
        self.chunks.get_mut(slot / CHUNK)?.get_mut(slot % CHUNK)?.as_mut()
    }

    /// A slot to [`fill`](Self::fill): a freed one, or a new one.
    fn vacant(&mut self) -> usize {
        if let Some(slot) = self.free.pop() {
            return slot;
        }
        if self.next == self.chunks.len() * CHUNK {
            self.chunks.push((0..CHUNK).map(|_| None).collect());
        }
        self.next += 1;
        self.next - 1
    }

    fn fill(&mut self, slot: usize, value: T) {
        if let Some(place) = self.chunks.get_mut(slot / CHUNK).and_then(|c| c.get_mut(slot % CHUNK)) {
            *place = Some(value);
        }
    }

    /// Empties `slot`, which becomes free.
    fn take(&mut self, slot: usize) -> Option<T> {
        let value = self.chunks.get_mut(slot / CHUNK)?.get_mut(slot % CHUNK)?.take();
        if value.is_some() {
            self.free.push(slot);
        }
        value
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flat_map(|c| c.iter().flatten())
    }

    /// Drops every chunk but the first (call when nothing is left in them), so a layer
    /// that empties and fills again does not allocate a chunk each time.
    fn clear(&mut self) {
        self.chunks.truncate(1);
        self.chunks.shrink_to_fit();
        self.free = Vec::new();
        self.next = 0;
    }
}

/// The running timers of one transaction, with when they fire.
#[derive(Debug, Clone, Copy, Default)]
struct Timers([Option<(Timer, Instant)>; 2]);

impl Timers {
    fn get(&self, timer: Timer) -> Option<Instant> {
        self.0.iter().flatten().find(|(t, _)| *t == timer).map(|&(_, at)| at)
    }

    fn set(&mut self, timer: Timer, at: Instant) {
        self.cancel(timer);
        if let Some(free) = self.0.iter_mut().find(|s| s.is_none()) {
            *free = Some((timer, at));
        } else {
            // No state of §17 runs more than two timers at once.
            debug_assert!(false, "a third timer");
            self.0[0] = Some((timer, at));
        }
    }

    fn cancel(&mut self, timer: Timer) {
        for s in &mut self.0 {
            if s.is_some_and(|(t, _)| t == timer) {
                *s = None;
            }
        }
    }
}

/// What the transactions share: the configuration, the timers and the queues to drain.
#[derive(Debug)]
struct Core<P> {
    config: Config,
    /// Every timer set, earliest first, by slot and generation; an entry is stale when
    /// its transaction is gone or the timer was cancelled or set to another instant.
    deadlines: Deadlines,
    transmits: VecDeque<Transmit<P>>,
    events: VecDeque<Event<P>>,
}

/// The live transactions and the queues to drain.
#[derive(Debug)]
pub struct TransactionLayer<P> {
    core: Core<P>,
    /// The transactions, in a slab: no hashing to reach one from a timer.
    slots: Slab<Transaction<P>>,
    generation: u64,
    /// The slot of each live transaction, by key.
    /// The slot of each live transaction, found by the hash its key carries; the keys
    /// themselves are in the slab only, so an entry is one slot number.
    index: HashTable<usize>,
    refused_requests: u64,
}

/// What to do with a transaction after an input.
enum Next {
    Stay,
    Terminate,
}

impl<P: Clone> TransactionLayer<P> {
    /// An empty layer.
    pub fn new(config: Config) -> Self {
        Self {
            core: Core { config, deadlines: Deadlines::default(), transmits: VecDeque::new(), events: VecDeque::new() },
            slots: Slab::default(),
            generation: 0,
            index: HashTable::new(),
            refused_requests: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    /// How many transactions are live.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Requests answered 503 without a transaction because [`Config::max_transactions`]
    /// were live.
    pub fn refused_requests(&self) -> u64 {
        self.refused_requests
    }

    /// Whether a transaction with `key` is live.
    pub fn contains(&self, key: &TransactionKey) -> bool {
        self.slot_of(key).is_some()
    }

    /// Where the live transaction with `key` sends: the peer its request came from (a
    /// server transaction) or went to (a client one).
    pub fn peer_of(&self, key: &TransactionKey) -> Option<&P> {
        self.slot_of(key).and_then(|s| self.slots.get(s)).map(|t| &t.peer)
    }

    /// The slot of the live transaction with `key`.
    fn slot_of(&self, key: &TransactionKey) -> Option<usize> {
        self.index.find(key.hash_value(), |&s| self.slots.get(s).is_some_and(|t| t.key == *key)).copied()
    }

    /// Makes `t` live: gives it a slot and indexes it.
    fn insert(&mut self, mut t: Transaction<P>, deadlines: &[(Timer, Instant)]) {
        let slot = self.slots.vacant();
        self.generation += 1;
        t.slot = slot;
        t.generation = self.generation;
        for &(timer, at) in deadlines {
            self.core.set(&mut t, timer, at);
        }
        let slots = &self.slots;
        self.index.insert_unique(t.key.hash_value(), slot, |&s| slots.get(s).map_or(0, |t| t.key.hash_value()));
        self.slots.fill(slot, t);
    }

    /// Ends the transaction in `slot` when `next` says so.
    fn settle(&mut self, slot: usize, next: Next) {
        if let Next::Terminate = next {
            if let Some(t) = self.slots.take(slot) {
                if let Ok(entry) = self.index.find_entry(t.key.hash_value(), |&s| s == slot) {
                    entry.remove();
                }
                self.core.events.push_back(Event::Terminated { key: t.key });
                // After a burst, the slab does not stay at its peak size.
                if self.index.is_empty() {
                    self.slots.clear();
                }
            }
        }
    }

    /// Bytes the layer holds for its live transactions: their records, index entries,
    /// timers, and the messages they keep for retransmission.
    pub fn memory_bytes(&self) -> usize {
        let per_entry = size_of::<Option<Transaction<P>>>() + size_of::<usize>();
        let keys: usize = self.slots.iter().map(|t| t.key.heap_bytes()).sum();
        let deadlines = self.core.deadlines.len() * size_of::<Deadline>();
        // A 100 Trying waiting for its timer: the response and its fields (their values
        // are the request's, shared with the layer above).
        let trying: usize = self
            .slots
            .iter()
            .filter_map(|t| t.trying.as_ref())
            .map(|r| size_of::<Response>() + r.headers.len() * size_of::<Header>())
            .sum();
        self.index.len() * per_entry + keys + self.message_bytes() + deadlines + trying
    }

    /// Bytes of the messages the live transactions keep to send again (requests, ACKs,
    /// last responses): the part of [`memory_bytes`](Self::memory_bytes) that scales with
    /// message size.
    pub fn message_bytes(&self) -> usize {
        self.slots.iter().map(|t| t.request.len() + t.response.as_ref().map_or(0, Bytes::len)).sum()
    }

    fn new_transaction(&self, key: TransactionKey, kind: Kind, peer: P, reliable: bool) -> Transaction<P> {
        Transaction {
            slot: 0,
            generation: 0,
            key,
            kind,
            state: match kind {
                Kind::InviteClient => State::Calling,
                Kind::NonInviteClient | Kind::NonInviteServer => State::Trying,
                Kind::InviteServer => State::Proceeding,
            },
            peer,
            reliable,
            request: Bytes::new(),
            response: None,
            trying: None,
            interval: self.core.config.t1,
            timers: Timers::default(),
        }
    }

    /// Starts a client transaction sending `request` to `to` (its top Via must carry an
    /// RFC 3261 branch and its final transport and sent-by). `reliable` says whether the
    /// transport to `to` is reliable, which turns off retransmissions.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        to: P,
        reliable: bool,
    ) -> Result<TransactionKey, TransactionError> {
        if request.method == Method::ACK {
            return Err(TransactionError::Ack);
        }
        let key = TransactionKey::for_client_request(&request)?;
        let cseq = cseq(&request.headers)?;
        if cseq.method != request.method {
            return Err(TransactionError::Malformed("the CSeq method differs from the request's".into()));
        }
        if self.slot_of(&key).is_some() {
            return Err(TransactionError::Duplicate(Box::new(key)));
        }
        let config = self.core.config;
        if self.index.len() >= config.max_transactions {
            return Err(TransactionError::TooManyTransactions(config.max_transactions));
        }
        let invite = request.method == Method::INVITE;
        let kind = if invite { Kind::InviteClient } else { Kind::NonInviteClient };
        let mut t = self.new_transaction(key.clone(), kind, to.clone(), reliable);
        t.request = request.to_bytes();
        self.core.transmits.push_back(Transmit { key: key.clone(), to, bytes: t.request.clone() });
        let (retransmit, give_up) = if invite { (Timer::A, Timer::B) } else { (Timer::E, Timer::F) };
        let give_up = (give_up, now + config.t1 * 64);
        if reliable {
            self.insert(t, &[give_up]);
        } else {
            self.insert(t, &[(retransmit, now + config.t1), give_up]);
        }
        Ok(key)
    }

    /// Sends `response` through server transaction `key`.
    pub fn send_response(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        response: Response,
    ) -> Result<(), TransactionError> {
        let Some(slot) = self.slot_of(key) else {
            return Err(TransactionError::NoSuchTransaction(Box::new(key.clone())));
        };
        let Some(t) = self.slots.get_mut(slot) else {
            return Err(TransactionError::NoSuchTransaction(Box::new(key.clone())));
        };
        let next = self.core.respond(now, t, response)?;
        self.settle(slot, next);
        Ok(())
    }

    /// A message from the transport: `from` is where it came from (responses to a request
    /// go back there), `reliable` whether that transport is reliable.
    pub fn handle_incoming(&mut self, now: Instant, message: Message, from: P, reliable: bool) {
        match message {
            Message::Request(request) => self.incoming_request(now, request, from, reliable),
            Message::Response(response) => self.incoming_response(now, response, from),
        }
    }

    fn incoming_request(&mut self, now: Instant, request: Request, from: P, reliable: bool) {
        // A request whose top Via or CSeq does not decode cannot be answered: dropped.
        let Ok(key) = TransactionKey::for_server_request(&request) else { return };
        if let Some(slot) = self.slot_of(&key) {
            if let Some(t) = self.slots.get_mut(slot) {
                let next = self.core.request_for(now, t, request);
                self.settle(slot, next);
            }
            return;
        }
        if request.method == Method::ACK {
            // The ACK for a 2xx, or a stray: the layer above decides.
            self.core.events.push_back(Event::Request { key: None, request, from, cancels: None });
            return;
        }
        let config = self.core.config;
        if self.index.len() >= config.max_transactions {
            // Overloaded (§21.5.4): a 503 sent statelessly, so the client stops
            // retransmitting and may go elsewhere, and nothing is kept for it. The To tag
            // comes from the key, the same for a retransmission (§8.2.7).
            self.refused_requests += 1;
            let tag = format!("{:016x}", key.hash_value());
            if let Ok(mut response) =
                Response::from_request(&request, StatusCode::SERVICE_UNAVAILABLE).with_to_tag(&tag)
            {
                if let Some(wait) = config.overload_retry_after {
                    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                    if let Ok(h) = Header::new(HeaderName::RETRY_AFTER, seconds.to_string()) {
                        response.headers.push(h);
                    }
                }
                self.core.transmits.push_back(Transmit { key, to: from, bytes: response.to_bytes() });
            }
            return;
        }
        let invite = request.method == Method::INVITE;
        let kind = if invite { Kind::InviteServer } else { Kind::NonInviteServer };
        let mut t = self.new_transaction(key.clone(), kind, from.clone(), reliable);
        let cancels = key.cancelled_invite().filter(|k| self.slot_of(k).is_some()).map(Box::new);
        match config.trying_delay {
            Some(delay) if invite => {
                // The 100 Trying is made now, while the request is at hand, and sent only
                // if the layer above is silent.
                t.trying = Some(Box::new(Response::from_request(&request, StatusCode::TRYING)));
                self.insert(t, &[(Timer::Trying, now + delay)]);
            }
            _ => self.insert(t, &[]),
        }
        self.core.events.push_back(Event::Request { key: Some(key), request, from, cancels });
    }

    fn incoming_response(&mut self, now: Instant, response: Response, from: P) {
        let Ok(key) = TransactionKey::for_response(&response) else { return };
        let Some(slot) = self.slot_of(&key) else {
            self.core.events.push_back(Event::StrayResponse { response, from });
            return;
        };
        if let Some(t) = self.slots.get_mut(slot) {
            let next = self.core.response_for(now, t, response);
            self.settle(slot, next);
        }
    }

    /// The transport could not send for transaction `key` (§17.1.4, §17.2.4): the layer
    /// above is told, and the transaction ends.
    pub fn handle_transport_error(&mut self, _now: Instant, key: &TransactionKey) {
        if let Some(slot) = self.slot_of(key) {
            self.core.events.push_back(Event::TransportError { key: key.clone() });
            self.settle(slot, Next::Terminate);
        }
    }

    /// Ends client transaction `key` on the word of the layer above, which reports
    /// `Terminated` for it: an INVITE whose CANCEL got no final response within 64·T1
    /// (§9.1: the client then considers the INVITE cancelled and destroys its
    /// transaction), or any request the layer above gave up on. A server transaction is
    /// not ended this way (its responses are still owed).
    pub fn abandon(&mut self, key: &TransactionKey) -> Result<(), TransactionError> {
        let slot = self.slot_of(key).ok_or_else(|| TransactionError::NoSuchTransaction(Box::new(key.clone())))?;
        let client = self.slots.get(slot).is_some_and(|t| matches!(t.kind, Kind::InviteClient | Kind::NonInviteClient));
        if !client {
            return Err(TransactionError::InvalidState { key: Box::new(key.clone()), status: 0 });
        }
        self.settle(slot, Next::Terminate);
        Ok(())
    }

    /// Fires every timer due at `now` (harmless when called early).
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, timer, slot, generation)) = self.core.deadlines.pop_due(now) {
            let Some(t) = self.slots.get_mut(slot) else { continue };
            if t.generation != generation || t.timers.get(timer) != Some(at) {
                continue;
            }
            t.timers.cancel(timer);
            let next = self.core.fire(at, t, timer);
            self.settle(slot, next);
        }
    }

    /// The next bytes to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit<P>> {
        self.core.transmits.pop_front()
    }

    /// The next event for the layer above.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<P>> {
        self.core.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    #[must_use]
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some((at, timer, slot, generation)) = self.core.deadlines.peek() {
            let live =
                self.slots.get(slot).is_some_and(|t| t.generation == generation && t.timers.get(timer) == Some(at));
            if live {
                return Some(at);
            }
            self.core.deadlines.pop();
        }
        None
    }

    /// The CANCEL for client INVITE transaction `key` (§9.1): the INVITE's Request-URI,
    /// Call-ID, From, To, CSeq number, top Via and Route, method CANCEL. Send it with
    /// [`send_request`](Self::send_request) once a provisional response arrived.
    pub fn cancel_request(&self, key: &TransactionKey) -> Result<Request, TransactionError> {
        let t = self
            .slot_of(key)
            .and_then(|slot| self.slots.get(slot))
            .ok_or_else(|| TransactionError::NoSuchTransaction(Box::new(key.clone())))?;
        if t.kind != Kind::InviteClient {
            return Err(TransactionError::InvalidState { key: Box::new(key.clone()), status: 0 });
        }
        let invite = parse_request(&t.request).ok_or_else(|| TransactionError::Malformed("stored INVITE".into()))?;
        let mut headers = Headers::new();
        let mut via_done = false;
        for f in invite.headers.iter() {
            let name = f.name();
            if *name == HeaderName::VIA {
                if !via_done {
                    let via = top_via(&invite.headers)?;
                    headers.push_typed(&via).map_err(|e| TransactionError::Malformed(e.to_string()))?;
                    via_done = true;
                }
            } else if [
                HeaderName::FROM,
                HeaderName::TO,
                HeaderName::CALL_ID,
                HeaderName::ROUTE,
                HeaderName::MAX_FORWARDS,
            ]
            .contains(name)
            {
                headers.push(f.clone());
            } else if *name == HeaderName::CSEQ {
                let seq = cseq(&invite.headers)?.seq;
                headers
                    .push_typed(&CSeq { seq, method: Method::CANCEL })
                    .map_err(|e| TransactionError::Malformed(e.to_string()))?;
            }
        }
        if !headers.contains(&HeaderName::MAX_FORWARDS) {
            let _ = headers.push_typed(&MaxForwards(70));
        }
        headers.push(Header::content_length(0));
        Ok(Request { method: Method::CANCEL, uri: invite.uri, headers, body: Bytes::new() })
    }
}

fn to_tag(headers: &Headers) -> Option<String> {
    headers.to().and_then(Result::ok).and_then(|to| to.tag().map(str::to_owned))
}

/// The To tag of a response the transaction sent (kept as bytes).
fn response_to_tag(bytes: &Bytes) -> Option<String> {
    match Message::parse(bytes.clone()).ok()? {
        Message::Response(r) => to_tag(&r.headers),
        Message::Request(_) => None,
    }
}

fn parse_request(bytes: &Bytes) -> Option<Request> {
    match Message::parse(bytes.clone()).ok()? {
        Message::Request(r) => Some(r),
        Message::Response(_) => None,
    }
}

/// The ACK for a non-2xx final response (§17.1.1.3): the INVITE's Request-URI, Call-ID,
/// From, top Via, Route and CSeq number, the response's To (with its tag), method ACK.
fn build_ack(invite: &Bytes, response: &Response) -> Option<Bytes> {
    let invite = parse_request(invite)?;
    let mut headers = Headers::new();
    let via = top_via(&invite.headers).ok()?;
    headers.push_typed(&via).ok()?;
    for f in invite.headers.iter() {
        let name = f.name();
        if [HeaderName::FROM, HeaderName::CALL_ID, HeaderName::ROUTE, HeaderName::MAX_FORWARDS].contains(name) {
            headers.push(f.clone());
        }
    }
    for f in response.headers.iter() {
        if *f.name() == HeaderName::TO {
            headers.push(Header::clone(f));
            break;
        }
    }
    let seq = cseq(&invite.headers).ok()?.seq;
    headers.push_typed(&CSeq { seq, method: Method::ACK }).ok()?;
    if !headers.contains(&HeaderName::MAX_FORWARDS) {
        headers.push_typed(&MaxForwards(70)).ok()?;
    }
    headers.push(Header::content_length(0));
    Some(Request { method: Method::ACK, uri: invite.uri, headers, body: Bytes::new() }.to_bytes())
}

impl<P: Clone> Core<P> {
    fn respond(&mut self, now: Instant, t: &mut Transaction<P>, response: Response) -> Result<Next, TransactionError> {
        let status = response.status;
        let refuse = || TransactionError::InvalidState { key: Box::new(t.key.clone()), status: status.as_u16() };
        let bytes = response.to_bytes();
        match (t.kind, t.state, status.is_provisional(), status.is_success()) {
            (Kind::InviteServer, State::Proceeding, true, _)
            | (Kind::NonInviteServer, State::Trying | State::Proceeding, true, _) => {
                self.cancel(t, Timer::Trying);
                t.state = State::Proceeding;
                self.send(t, bytes, true);
                Ok(Next::Stay)
            }
            (Kind::InviteServer, State::Proceeding, false, true) => {
                // RFC 6026: the layer above retransmits the 2xx; the transaction waits in
                // Accepted for INVITE retransmissions and passes ACKs up. It absorbs those
                // retransmissions, so it keeps no response (its 2xx nor an earlier
                // provisional) for the 32 s of Timer L.
                self.cancel(t, Timer::Trying);
                t.state = State::Accepted;
                t.response = None;
                self.send(t, bytes, false);
                self.set(t, Timer::L, now + self.config.t1 * 64);
                Ok(Next::Stay)
            }
            (Kind::InviteServer, State::Accepted, false, true) => {
                // A 2xx retransmission of the layer above passes through.
                self.send(t, bytes, false);
                Ok(Next::Stay)
            }
            (Kind::InviteServer, State::Proceeding, false, false) => {
                self.cancel(t, Timer::Trying);
                t.state = State::Completed;
                self.send(t, bytes, true);
                if !t.reliable {
                    t.interval = self.config.t1;
                    self.set(t, Timer::G, now + self.config.t1);
                }
                self.set(t, Timer::H, now + self.config.t1 * 64);
                Ok(Next::Stay)
            }
            (Kind::NonInviteServer, State::Trying | State::Proceeding, false, _) => {
                t.state = State::Completed;
                self.send(t, bytes, true);
                if t.reliable {
                    return Ok(Next::Terminate);
                }
                self.set(t, Timer::J, now + self.config.t1 * 64);
                Ok(Next::Stay)
            }
            _ => Err(refuse()),
        }
    }

    /// A request matching live server transaction `t`: a retransmission, or an ACK.
    fn request_for(&mut self, now: Instant, t: &mut Transaction<P>, request: Request) -> Next {
        let ack = request.method == Method::ACK;
        match (t.kind, t.state, ack) {
            (Kind::InviteServer, State::Completed, true) => {
                // RFC 2543 ACKs must carry the To tag of the response.
                if t.key.is_rfc2543() && to_tag(&request.headers) != t.response.as_ref().and_then(response_to_tag) {
                    self.events.push_back(Event::Request { key: None, request, from: t.peer.clone(), cancels: None });
                    return Next::Stay;
                }
                self.cancel(t, Timer::G);
                self.cancel(t, Timer::H);
                t.state = State::Confirmed;
                if t.reliable {
                    return Next::Terminate;
                }
                self.set(t, Timer::I, now + self.config.t4);
                Next::Stay
            }
            (Kind::InviteServer, State::Accepted, true) => {
                // RFC 6026 §7.1: the ACK for the 2xx goes up.
                self.events.push_back(Event::Request {
                    key: Some(t.key.clone()),
                    request,
                    from: t.peer.clone(),
                    cancels: None,
                });
                Next::Stay
            }
            (Kind::InviteServer, State::Proceeding | State::Completed, false) => {
                // A retransmitted INVITE: the last response again (the 100 Trying only once
                // it was sent).
                if t.state == State::Completed || t.timers.get(Timer::Trying).is_none() {
                    self.resend_response(t);
                }
                Next::Stay
            }
            (Kind::NonInviteServer, State::Proceeding | State::Completed, false) => {
                self.resend_response(t);
                Next::Stay
            }
            // Trying (nothing to send yet), Accepted, Confirmed, and ACKs that fit nowhere
            // are absorbed.
            _ => Next::Stay,
        }
    }

    fn response_for(&mut self, now: Instant, t: &mut Transaction<P>, response: Response) -> Next {
        let status = response.status;
        let key = t.key.clone();
        let up = |events: &mut VecDeque<Event<P>>, response| {
            events.push_back(Event::Response { key: key.clone(), response });
        };
        match (t.kind, t.state) {
            (Kind::InviteClient, State::Calling | State::Proceeding) => {
                if status.is_provisional() {
                    // No more retransmissions, and no Timer B once something answers.
                    self.cancel(t, Timer::A);
                    self.cancel(t, Timer::B);
                    t.state = State::Proceeding;
                    up(&mut self.events, response);
                    Next::Stay
                } else if status.is_success() {
                    self.cancel(t, Timer::A);
                    self.cancel(t, Timer::B);
                    t.state = State::Accepted;
                    self.set(t, Timer::M, now + self.config.t1 * 64);
                    up(&mut self.events, response);
                    Next::Stay
                } else {
                    self.cancel(t, Timer::A);
                    self.cancel(t, Timer::B);
                    t.state = State::Completed;
                    let ack = build_ack(&t.request, &response);
                    if let Some(ack) = &ack {
                        self.transmits.push_back(Transmit {
                            key: t.key.clone(),
                            to: t.peer.clone(),
                            bytes: ack.clone(),
                        });
                    }
                    t.response = ack;
                    up(&mut self.events, response);
                    if t.reliable {
                        return Next::Terminate;
                    }
                    self.set(t, Timer::D, now + TIMER_D);
                    Next::Stay
                }
            }
            (Kind::InviteClient, State::Accepted) => {
                if status.is_success() {
                    up(&mut self.events, response);
                }
                Next::Stay
            }
            (Kind::InviteClient, State::Completed) => {
                if status.is_final() && !status.is_success() {
                    if let Some(ack) = &t.response {
                        self.transmits.push_back(Transmit {
                            key: t.key.clone(),
                            to: t.peer.clone(),
                            bytes: ack.clone(),
                        });
                    }
                }
                Next::Stay
            }
            (Kind::NonInviteClient, State::Trying | State::Proceeding) => {
                if status.is_provisional() {
                    t.state = State::Proceeding;
                    up(&mut self.events, response);
                    return Next::Stay;
                }
                self.cancel(t, Timer::E);
                self.cancel(t, Timer::F);
                t.state = State::Completed;
                up(&mut self.events, response);
                if t.reliable {
                    return Next::Terminate;
                }
                self.set(t, Timer::K, now + self.config.t4);
                Next::Stay
            }
            // Completed non-INVITE: retransmissions absorbed.
            _ => Next::Stay,
        }
    }

    fn fire(&mut self, at: Instant, t: &mut Transaction<P>, timer: Timer) -> Next {
        match timer {
            Timer::A => {
                // INVITE retransmission; the interval doubles without a cap (§17.1.1.2).
                self.transmits.push_back(Transmit { key: t.key.clone(), to: t.peer.clone(), bytes: t.request.clone() });
                t.interval *= 2;
                self.set(t, Timer::A, at + t.interval);
                Next::Stay
            }
            Timer::E => {
                self.transmits.push_back(Transmit { key: t.key.clone(), to: t.peer.clone(), bytes: t.request.clone() });
                t.interval =
                    if t.state == State::Proceeding { self.config.t2 } else { (t.interval * 2).min(self.config.t2) };
                self.set(t, Timer::E, at + t.interval);
                Next::Stay
            }
            Timer::G => {
                self.resend_response(t);
                t.interval = (t.interval * 2).min(self.config.t2);
                self.set(t, Timer::G, at + t.interval);
                Next::Stay
            }
            Timer::B | Timer::F | Timer::H => {
                self.events.push_back(Event::Timeout { key: t.key.clone(), timer });
                Next::Terminate
            }
            Timer::D | Timer::I | Timer::J | Timer::K | Timer::L | Timer::M => Next::Terminate,
            Timer::Trying => {
                // From now on it is also the answer to a retransmitted INVITE.
                if let Some(trying) = t.trying.take() {
                    self.send(t, trying.to_bytes(), true);
                }
                Next::Stay
            }
        }
    }

    fn send(&mut self, t: &mut Transaction<P>, bytes: Bytes, keep: bool) {
        if keep {
            t.response = Some(bytes.clone());
        }
        self.transmits.push_back(Transmit { key: t.key.clone(), to: t.peer.clone(), bytes });
    }

    fn resend_response(&mut self, t: &Transaction<P>) {
        if let Some(bytes) = &t.response {
            self.transmits.push_back(Transmit { key: t.key.clone(), to: t.peer.clone(), bytes: bytes.clone() });
        }
    }

    fn set(&mut self, t: &mut Transaction<P>, timer: Timer, at: Instant) {
        t.timers.set(timer, at);
        self.deadlines.push((at, timer, t.slot, t.generation));
    }

    fn cancel(&mut self, t: &mut Transaction<P>, timer: Timer) {
        t.timers.cancel(timer);
        if timer == Timer::Trying {
            // The layer above answered: the 100 Trying is not needed.
            t.trying = None;
        }
    }
}
