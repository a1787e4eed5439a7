//! The sipkit endpoint: the sans-IO layers composed over tokio and `sip-transport`.
//!
//! [`driver`] is the task that pumps a [`sip_transaction::TransactionLayer`] with what
//! the transports receive, sends what it transmits, and runs its timers with one sleep;
//! [`answer`], an answering UAS (the core of `sipkit answer`) on top of it: calls,
//! requests outside a call, and the subscriptions it serves as notifier; [`uac`], the UAC
//! half: outgoing calls, registrations, subscriptions and requests outside a dialog, with
//! digest authentication (the core of `sipkit call`, `register`, `subscribe`, `options`
//! and `message`); and [`endpoint`], both cores behind one async API.

#![forbid(unsafe_code)]

use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use sip_message::header::Transport as TransportName;
use sip_message::{Method, Response, StatusCode, Uri};
use sip_transaction::TransactionKey;
use sip_transport::Target;
use sip_transport::resolve::Destination;

pub mod answer;
pub mod driver;
pub mod endpoint;
pub mod runner;
pub mod uac;
mod wakeup;

/// A new tag (§19.3): 64 random bits in hex.
pub(crate) fn new_tag(entropy: &mut impl sip_dialog::Entropy) -> String {
    // Sixteen hex digits, as `{:016x}` writes them, without the formatting machinery.
    let n = entropy.next_u64();
    (0..16).rev().map(|nibble| char::from(b"0123456789abcdef"[(n >> (nibble * 4)) as usize & 0xf])).collect()
}

/// The server transactions a call's session answers through, by CSeq number and method.
#[derive(Debug, Default)]
pub(crate) struct Serving(Vec<(u32, Method, TransactionKey)>);

impl Serving {
    /// Transaction `key` waits for the session's answer to the request with CSeq `seq`.
    pub(crate) fn push(&mut self, seq: u32, method: Method, key: TransactionKey) {
        self.0.push((seq, method, key));
    }

    /// The transaction `response` goes through. Any but an INVITE's is done with its final
    /// response; an INVITE's passes its 2xx retransmissions on (RFC 6026).
    pub(crate) fn key_for(&mut self, response: &Response) -> Option<TransactionKey> {
        let cseq = response.headers.cseq().and_then(Result::ok)?;
        let at = self.0.iter().position(|(s, m, _)| *s == cseq.seq && *m == cseq.method)?;
        if response.status.is_final() && cseq.method != Method::INVITE {
            return Some(self.0.remove(at).2);
        }
        Some(self.0[at].2.clone())
    }

    /// Forgets transaction `key` (it terminated); whether it was here.
    pub(crate) fn forget(&mut self, key: &TransactionKey) -> bool {
        let before = self.0.len();
        self.0.retain(|(_, _, k)| k != key);
        self.0.len() != before
    }

    /// Whether only INVITE transactions (which end on their own timers) are left.
    pub(crate) fn only_invites(&self) -> bool {
        self.0.iter().all(|(_, m, _)| *m == Method::INVITE)
    }

    /// The transactions.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &TransactionKey> {
        self.0.iter().map(|(_, _, k)| k)
    }
}

/// The status a UA answers an in-dialog request with that its session leaves to it:
/// 200 for OPTIONS, INFO and MESSAGE, 405 for anything else.
pub(crate) fn in_dialog_status(method: &Method) -> StatusCode {
    match *method {
        Method::OPTIONS | Method::INFO | Method::MESSAGE => StatusCode::OK,
        _ => StatusCode::METHOD_NOT_ALLOWED,
    }
}

/// A map whose keys hash as one number a peer cannot choose: an id this side hands out
/// (a call's, a request's) or a [`TransactionKey`](sip_transaction::TransactionKey), whose
/// hash is keyed when the key is made. Such keys need no SipHash, which costs several
/// times more and guards the maps keyed by what a peer writes (Call-IDs, tags).
pub(crate) type IdMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// The deadlines of a core's calls (or other things it keeps by number): at most one per
/// thing, the earliest first.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    queue: BTreeSet<(Instant, u64)>,
    filed: IdMap<u64, Instant>,
}

impl Deadlines {
    /// Files `id` under `at` (`None`: under nothing), replacing what it was filed under.
    pub(crate) fn file(&mut self, id: u64, at: Option<Instant>) {
        let old = match at {
            Some(at) => self.filed.insert(id, at),
            None => self.filed.remove(&id),
        };
        if old == at {
            return;
        }
        if let Some(old) = old {
            self.queue.remove(&(old, id));
        }
        if let Some(at) = at {
            self.queue.insert((at, id));
        }
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.queue.first().map(|(at, _)| *at)
    }

    /// Takes the first thing due at `now`, if any.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<u64> {
        let &(at, id) = self.queue.first().filter(|(at, _)| *at <= now)?;
        self.queue.pop_first();
        if self.filed.get(&id) == Some(&at) {
            self.filed.remove(&id);
        }
        Some(id)
    }
}

/// Where a request to `uri` goes when its host is an IP address (RFC 3263 §4 with a
/// numeric host: the `transport` parameter or UDP (TLS for `sips`; for `sips`, `tcp`
/// means TLS and `ws` secure WebSocket), the port or the transport's default); `None` for
/// a host name, which takes a resolver.
pub fn numeric_target(uri: &Uri) -> Option<Target> {
    let Uri::Sip(sip) = uri else { return None };
    let destination = Destination::from_uri(sip);
    let host = destination.host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = host.parse().ok()?;
    // A sips URI with transport=tcp means TLS, with transport=ws secure WebSocket (RFC 7118).
    let transport = match (destination.transport, destination.secure) {
        (Some(t), true) if t == TransportName::TCP => TransportName::TLS,
        (Some(t), true) if t == TransportName::WS => TransportName::WSS,
        (Some(t), _) => t,
        (None, true) => TransportName::TLS,
        (None, false) => TransportName::UDP,
    };
    let default_port = if transport == TransportName::TLS || transport == TransportName::WSS { 5061 } else { 5060 };
    Some(Target::new(transport, SocketAddr::new(ip, destination.port.unwrap_or(default_port))))
}

#[cfg(test)]
mod tests {
    struct Fixed(u64);

    impl sip_dialog::Entropy for Fixed {
        fn next_u64(&mut self) -> u64 {
            self.0
        }
    }

    #[test]
    fn a_tag_is_the_sixteen_hex_digits_of_its_random_number() {
        for n in [0, 1, 0xabc, 0x0123_4567_89ab_cdef, u64::MAX] {
            assert_eq!(super::new_tag(&mut Fixed(n)), format!("{n:016x}"));
        }
    }
}
