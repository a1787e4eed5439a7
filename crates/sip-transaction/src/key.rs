//! Transaction identity: how requests and responses find their transaction (§17.1.3,
//! §17.2.3), with the RFC 2543 fallback for branches without the magic cookie.

use std::fmt;

use bytes::Bytes;
use sip_message::header::{BRANCH_MAGIC_COOKIE, CSeq, Via};
use sip_message::{Method, Request, Response};

use crate::TransactionError;

/// Which side of a transaction this element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The side that sent the request.
    Client,
    /// The side that received it.
    Server,
}

/// Most branch + host pairs fit in this many bytes, kept inline.
const INLINE: usize = 62;

/// The branch and the sent-by host (lower-cased: hosts compare without case) of a key,
/// inline when short, so a key neither allocates nor keeps the received message alive, and
/// copying one is a memcpy.
#[derive(Debug, Clone)]
enum Text {
    Inline { branch_len: u8, len: u8, bytes: [u8; INLINE] },
    Heap { branch_len: usize, bytes: Box<[u8]> },
}

impl Text {
    fn new(branch: &[u8], host: &[u8]) -> Self {
        let len = branch.len() + host.len();
        if len <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..branch.len()].copy_from_slice(branch);
            for (to, from) in bytes[branch.len()..len].iter_mut().zip(host) {
                *to = from.to_ascii_lowercase();
            }
            // Both lengths fit in a u8: len <= INLINE.
            Self::Inline { branch_len: branch.len() as u8, len: len as u8, bytes }
        } else {
            let mut bytes = Vec::with_capacity(len);
            bytes.extend_from_slice(branch);
            bytes.extend(host.iter().map(u8::to_ascii_lowercase));
            Self::Heap { branch_len: branch.len(), bytes: bytes.into_boxed_slice() }
        }
    }

    /// Branch and host, as one slice.
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes, .. } => &bytes[..usize::from(*len)],
            Self::Heap { bytes, .. } => bytes,
        }
    }

    fn branch_len(&self) -> usize {
        match self {
            Self::Inline { branch_len, .. } => usize::from(*branch_len),
            Self::Heap { branch_len, .. } => *branch_len,
        }
    }

    fn branch(&self) -> &[u8] {
        match self {
            Self::Inline { branch_len, bytes, .. } => &bytes[..usize::from(*branch_len)],
            Self::Heap { branch_len, bytes } => &bytes[..*branch_len],
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::Inline { .. } => 0,
            Self::Heap { bytes, .. } => bytes.len(),
        }
    }
}

/// Equal by content only (what is inline past it is zero and irrelevant).
impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.branch_len() == other.branch_len() && self.bytes() == other.bytes()
    }
}

impl Eq for Text {}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    /// RFC 3261: the branch (it starts with the magic cookie), for a server the top Via's
    /// sent-by, and the method, ACK counted as INVITE.
    Branch { role: Role, text: Text, port: u16, method: Method },
    /// RFC 2543 peers (no magic cookie), boxed: they are rare and the key is large.
    Legacy(Box<Legacy>),
}

/// Hashed in two writes (the hash is computed once per key, but with SipHash).
impl std::hash::Hash for Repr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Self::Branch { role, text, port, method } => {
                let method = method.as_bytes();
                let mut buf = [0u8; INLINE + 16];
                let bytes = text.bytes();
                let used = bytes.len() + method.len();
                if used <= buf.len() {
                    buf[..bytes.len()].copy_from_slice(bytes);
                    buf[bytes.len()..used].copy_from_slice(method);
                    state.write(&buf[..used]);
                } else {
                    state.write(bytes);
                    state.write(method);
                }
                let packed = u64::from(*role == Role::Server)
                    | (u64::from(*port) << 8)
                    | ((text.branch_len() as u64) << 24)
                    | ((method.len() as u64) << 40);
                state.write_u64(packed);
            }
            Self::Legacy(l) => l.hash(state),
        }
    }
}

/// The RFC 2543 fields: the Request-URI, From tag, Call-ID, CSeq number, top Via and
/// method (ACK counted as INVITE), and for a non-INVITE the To tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Legacy {
    request_uri: Bytes,
    from_tag: Bytes,
    to_tag: Bytes,
    call_id: Bytes,
    cseq: u32,
    via: Bytes,
    method: Method,
}

/// Identifies one transaction.
///
/// The key carries its hash, computed once with process-wide random keys (SipHash, so
/// peers cannot choose branches that collide); maps of keys then hash the stored value
/// instead of the whole key on every lookup.
#[derive(Debug, Clone)]
pub struct TransactionKey(Repr, u64);

impl PartialEq for TransactionKey {
    fn eq(&self, other: &Self) -> bool {
        self.1 == other.1 && self.0 == other.0
    }
}

impl Eq for TransactionKey {}

impl TransactionKey {
    /// The hash computed when the key was made.
    pub(crate) fn hash_value(&self) -> u64 {
        self.1
    }
}

impl std::hash::Hash for TransactionKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.1);
    }
}

/// The random keys of the key hash, the same for the whole process.
fn key_hasher() -> &'static std::hash::RandomState {
    static HASHER: std::sync::OnceLock<std::hash::RandomState> = std::sync::OnceLock::new();
    HASHER.get_or_init(std::hash::RandomState::new)
}

impl TransactionKey {
    fn new(repr: Repr) -> Self {
        use std::hash::BuildHasher;
        let hash = key_hasher().hash_one(&repr);
        Self(repr, hash)
    }
}

impl fmt::Display for TransactionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Branch { role, text, method, .. } => {
                write!(f, "{role:?}/{}/{}", String::from_utf8_lossy(text.branch()), method.as_str())
            }
            Repr::Legacy(l) => {
                write!(f, "Server/rfc2543/{}/{}/{}", String::from_utf8_lossy(&l.call_id), l.cseq, l.method.as_str())
            }
        }
    }
}

/// The method a transaction is keyed by: an ACK belongs to the INVITE's transaction.
fn keyed_method(method: &Method) -> Method {
    if *method == Method::ACK { Method::INVITE } else { method.clone() }
}

pub(crate) fn top_via(headers: &sip_message::Headers) -> Result<Via, TransactionError> {
    match headers.top_via() {
        Some(Ok(via)) => Ok(via),
        Some(Err(e)) => Err(TransactionError::Malformed(format!("top Via: {e}"))),
        None => Err(TransactionError::Malformed("no Via".into())),
    }
}

pub(crate) fn cseq(headers: &sip_message::Headers) -> Result<CSeq, TransactionError> {
    match headers.cseq() {
        Some(Ok(c)) => Ok(c),
        Some(Err(e)) => Err(TransactionError::Malformed(format!("CSeq: {e}"))),
        None => Err(TransactionError::Malformed("no CSeq".into())),
    }
}

fn tag_of(tag: Option<&str>) -> Bytes {
    tag.map_or_else(Bytes::new, |t| Bytes::copy_from_slice(t.as_bytes()))
}

impl TransactionKey {
    /// The key of the client transaction that sends `request`; its top Via must carry an
    /// RFC 3261 branch (this layer makes no RFC 2543 requests).
    pub fn for_client_request(request: &Request) -> Result<Self, TransactionError> {
        let via = top_via(&request.headers)?;
        let branch = via.branch().unwrap_or_default();
        if !branch.starts_with(BRANCH_MAGIC_COOKIE) {
            return Err(TransactionError::Malformed("the top Via needs a branch starting with z9hG4bK".into()));
        }
        Ok(Self::new(Repr::Branch {
            role: Role::Client,
            text: Text::new(branch.as_bytes(), b""),
            port: 0,
            method: keyed_method(&request.method),
        }))
    }

    /// The key of the client transaction a response belongs to (§17.1.3): the top Via's
    /// branch and the CSeq method.
    pub fn for_response(response: &Response) -> Result<Self, TransactionError> {
        let via = top_via(&response.headers)?;
        let method = cseq(&response.headers)?.method;
        Ok(Self::new(Repr::Branch {
            role: Role::Client,
            text: Text::new(via.branch().unwrap_or_default().as_bytes(), b""),
            port: 0,
            method: keyed_method(&method),
        }))
    }

    /// The key of the server transaction a received request belongs to (§17.2.3): branch,
    /// sent-by and method with the magic cookie, else the RFC 2543 fields. An ACK gets the
    /// key of the INVITE it acknowledges.
    pub fn for_server_request(request: &Request) -> Result<Self, TransactionError> {
        let via = top_via(&request.headers)?;
        let method = keyed_method(&request.method);
        let branch = via.branch().unwrap_or_default();
        if branch.starts_with(BRANCH_MAGIC_COOKIE) {
            let port = via.port().unwrap_or_else(|| via.transport().default_port());
            return Ok(Self::new(Repr::Branch {
                role: Role::Server,
                text: Text::new(branch.as_bytes(), via.host_str().as_bytes()),
                port,
                method,
            }));
        }
        let headers = &request.headers;
        let from_tag = match headers.from() {
            Some(Ok(f)) => tag_of(f.tag()),
            _ => return Err(TransactionError::Malformed("From".into())),
        };
        // The INVITE and its ACK differ in the To tag; only non-INVITE keys include it.
        let to_tag = match headers.to() {
            Some(Ok(t)) if method != Method::INVITE => tag_of(t.tag()),
            Some(Ok(_)) => Bytes::new(),
            _ => return Err(TransactionError::Malformed("To".into())),
        };
        let call_id = match headers.call_id() {
            Some(Ok(c)) => c.0,
            _ => return Err(TransactionError::Malformed("Call-ID".into())),
        };
        Ok(Self::new(Repr::Legacy(Box::new(Legacy {
            request_uri: request.uri.as_bytes().clone(),
            from_tag,
            to_tag,
            call_id,
            cseq: cseq(headers)?.seq,
            via: via.as_bytes().clone(),
            method,
        }))))
    }

    /// The key of the INVITE server transaction a CANCEL with this key cancels (§9.2): the
    /// same but for the method.
    pub fn cancelled_invite(&self) -> Option<Self> {
        if *self.method() != Method::CANCEL {
            return None;
        }
        let mut repr = self.0.clone();
        match &mut repr {
            Repr::Branch { role: Role::Server, method, .. } if *method == Method::CANCEL => *method = Method::INVITE,
            Repr::Legacy(l) if l.method == Method::CANCEL => {
                l.method = Method::INVITE;
                l.to_tag = Bytes::new();
            }
            _ => return None,
        }
        Some(Self::new(repr))
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        match &self.0 {
            Repr::Branch { role, .. } => *role,
            Repr::Legacy(_) => Role::Server,
        }
    }

    /// The method of the transaction (INVITE for an ACK's).
    pub fn method(&self) -> &Method {
        match &self.0 {
            Repr::Branch { method, .. } => method,
            Repr::Legacy(l) => &l.method,
        }
    }

    /// Whether the key uses the RFC 2543 fields (the request had no magic cookie).
    pub fn is_rfc2543(&self) -> bool {
        matches!(self.0, Repr::Legacy(_))
    }

    /// Bytes the key holds besides its own size.
    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Branch { text, .. } => text.heap_bytes(),
            Repr::Legacy(l) => {
                size_of::<Legacy>()
                    + l.request_uri.len()
                    + l.from_tag.len()
                    + l.to_tag.len()
                    + l.call_id.len()
                    + l.via.len()
            }
        }
    }
}
