//! One dialog (RFC 3261 §12): its identity and state, the requests it sends and the checks
//! on the requests it receives.

use bytes::Bytes;
use sip_message::header::{self, CallId, Contact, NameAddr, Via};
use sip_message::{DecodeError, Headers, Method, Request, Response, Uri};

use crate::error::DialogError;

/// The highest CSeq number a request may carry, 2^31 - 1 (§8.1.1.5).
pub const MAX_CSEQ: u32 = (1 << 31) - 1;

/// Max-Forwards of the requests a dialog builds (§8.1.1.6).
pub const MAX_FORWARDS: u8 = 70;

/// Which side of the request that created the dialog this UA was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// It sent the request (and owns the Call-ID, §14.1).
    Uac,
    /// It answered the request.
    Uas,
}

/// Where a dialog is in its life (§12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialogState {
    /// Made by a provisional response: ended by a non-2xx final response to the request
    /// that made it.
    Early,
    /// Made or confirmed by a 2xx.
    Confirmed,
    /// Ended: nothing more is sent in it and requests for it get 481.
    Terminated,
}

/// What identifies a dialog at one UA (§12): the Call-ID and the tags, as this UA sees them.
/// Tags compare exactly; an absent tag (from an RFC 2543 peer) is empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    call_id: Bytes,
    local_tag: Bytes,
    remote_tag: Bytes,
}

impl DialogId {
    /// The id of a dialog with these parts.
    pub fn new(call_id: impl Into<Bytes>, local_tag: impl Into<Bytes>, remote_tag: impl Into<Bytes>) -> Self {
        Self { call_id: call_id.into(), local_tag: local_tag.into(), remote_tag: remote_tag.into() }
    }

    /// The id of the dialog a received request belongs to: its Call-ID, its To tag (this
    /// UA's) and its From tag (the peer's). `None` when the To has no tag: the request is
    /// outside any dialog.
    ///
    /// Only the tags are read from To and From (their addresses are not decoded: this
    /// runs for every request received, and the headers keep the tags they found), and the
    /// parts are slices of the request: the id is for looking its dialog up;
    /// [`detached`](Self::detached) is the one to keep.
    pub fn of_request(request: &Request) -> Result<Option<Self>, DialogError> {
        let tag = |found: Option<Result<Option<Bytes>, _>>, header: &'static str| {
            found.ok_or(DialogError::MissingHeader(header))?.map_err(|error| DialogError::Malformed { header, error })
        };
        let Some(local_tag) = tag(request.headers.to_tag(), "To")? else { return Ok(None) };
        let remote_tag = tag(request.headers.from_tag(), "From")?.unwrap_or_default();
        Ok(Some(Self::new(call_id(&request.headers)?.0, local_tag, remote_tag)))
    }

    /// The same id in buffers of its own, not slices of the message it was read from
    /// (which a long-lived copy would otherwise keep whole).
    pub fn detached(&self) -> Self {
        Self::new(copy(&self.call_id), copy(&self.local_tag), copy(&self.remote_tag))
    }

    /// The id of the dialog a response to a request this UA sent belongs to: its Call-ID,
    /// its From tag (this UA's) and its To tag (the peer's, empty when absent).
    pub fn of_response(response: &Response) -> Result<Self, DialogError> {
        let from = from(&response.headers)?;
        let to = to(&response.headers)?;
        Ok(Self::new(
            copy(call_id(&response.headers)?.0.as_ref()),
            copy(from.tag().unwrap_or_default().as_bytes()),
            copy(to.tag().unwrap_or_default().as_bytes()),
        ))
    }

    /// The Call-ID.
    pub fn call_id(&self) -> &[u8] {
        &self.call_id
    }

    /// This UA's tag.
    pub fn local_tag(&self) -> &[u8] {
        &self.local_tag
    }

    /// The peer's tag (empty for an RFC 2543 peer that sent none).
    pub fn remote_tag(&self) -> &[u8] {
        &self.remote_tag
    }

    /// The Call-ID and local tag: what the branches of one forked request share.
    pub(crate) fn call_key(&self) -> (Bytes, Bytes) {
        (self.call_id.clone(), self.local_tag.clone())
    }

    fn heap_bytes(&self) -> usize {
        self.call_id.len() + self.local_tag.len() + self.remote_tag.len()
    }
}

/// A dialog (§12): a peer-to-peer relationship between two UAs that lasts a while, with the
/// state that routes and orders the requests sent in it.
///
/// It holds its own copies of what it keeps (not slices of the messages that made it), so
/// a dialog does not keep whole messages alive.
#[derive(Debug, Clone)]
pub struct Dialog {
    id: DialogId,
    role: Role,
    state: DialogState,
    /// The CSeq of the last request sent; `None` (empty) until the first.
    local_seq: Option<u32>,
    /// The CSeq of the last request received; `None` (empty) until the first.
    remote_seq: Option<u32>,
    /// This UA's address with its tag: From of the requests it sends.
    local: NameAddr,
    /// The peer's address with its tag: To of the requests it sends.
    remote: NameAddr,
    /// This UA's Contact URI.
    local_target: Uri,
    /// The peer's Contact URI: where requests go.
    remote_target: Uri,
    /// The proxies on the path, in the order requests visit them.
    route_set: Vec<NameAddr>,
    secure: bool,
}

impl Dialog {
    /// The dialog a UAC makes from a response to its dialog-creating request (§12.1.2): early
    /// for 101–199, confirmed for 2xx. The route set is the response's Record-Route in
    /// reverse, the remote target its Contact.
    ///
    /// A response without Contact (which §12.1.1 forbids, but deployed UAs send in 18x)
    /// leaves the remote target at the Request-URI.
    pub fn new_uac(request: &Request, response: &Response) -> Result<Self, DialogError> {
        let status = response.status.as_u16();
        if !(101..=299).contains(&status) {
            return Err(DialogError::NotDialogCreating(status));
        }
        let local = from(&request.headers)?.0.detached();
        let to = to(&response.headers)?;
        let remote = to.0.detached();
        let id = DialogId::new(
            copy(call_id(&request.headers)?.0.as_ref()),
            copy(local.tag().unwrap_or_default().as_bytes()),
            copy(remote.tag().unwrap_or_default().as_bytes()),
        );
        let local_target = match contact(&request.headers)? {
            Some(c) => c.uri().detached(),
            None => return Err(DialogError::MissingHeader("Contact")),
        };
        let remote_target = match contact(&response.headers)? {
            Some(c) => c.uri().detached(),
            None => request.uri.detached(),
        };
        let mut route_set = record_route(&response.headers)?;
        route_set.reverse();
        Ok(Self {
            id,
            role: Role::Uac,
            state: if status < 200 { DialogState::Early } else { DialogState::Confirmed },
            local_seq: Some(cseq(&request.headers)?.seq),
            remote_seq: None,
            local,
            remote,
            local_target,
            remote_target,
            route_set,
            secure: request.uri.is_secure(),
        })
    }

    /// The dialog a UAS makes when it answers a dialog-creating request with 101–299 and a
    /// To tag (§12.1.1): the route set is the request's Record-Route in order, the remote
    /// target its Contact, this UA's target the response's Contact.
    pub fn new_uas(request: &Request, response: &Response) -> Result<Self, DialogError> {
        let status = response.status.as_u16();
        if !(101..=299).contains(&status) {
            return Err(DialogError::NotDialogCreating(status));
        }
        let local = to(&response.headers)?.0;
        let Some(local_tag) = local.tag().map(|t| copy(t.as_bytes())) else {
            return Err(DialogError::MissingHeader("To tag"));
        };
        let Some(local_target) = contact(&response.headers)? else {
            return Err(DialogError::MissingHeader("Contact"));
        };
        let mut dialog = Self::uas_parts(request, &local, local_tag, local_target.uri())?;
        if status >= 200 {
            dialog.state = DialogState::Confirmed;
        }
        Ok(dialog)
    }

    /// The early dialog a UAS makes for `request` before it sends any response: this UA's
    /// tag and Contact are given instead of read from a response. It is confirmed by
    /// [`Dialog::response_sent`] with a 2xx.
    pub fn new_uas_early(request: &Request, local_tag: &str, local_target: &Uri) -> Result<Self, DialogError> {
        let local = to(&request.headers)?
            .0
            .with_tag(local_tag)
            .map_err(|error| DialogError::Malformed { header: "To tag", error })?;
        Self::uas_parts(request, &local, copy(local_tag.as_bytes()), local_target)
    }

    /// A UAS's early dialog for `request`; `local` is the To with this UA's tag,
    /// `local_tag`. The peer's tag is the one the request's headers found (and kept).
    fn uas_parts(
        request: &Request,
        local: &NameAddr,
        local_tag: Bytes,
        local_target: &Uri,
    ) -> Result<Self, DialogError> {
        let local = local.detached();
        let remote = from(&request.headers)?.0.detached();
        let remote_tag = match request.headers.from_tag() {
            Some(Ok(tag)) => copy(&tag.unwrap_or_default()),
            Some(Err(error)) => return Err(DialogError::Malformed { header: "From", error }),
            None => return Err(DialogError::MissingHeader("From")),
        };
        let id = DialogId::new(copy(call_id(&request.headers)?.0.as_ref()), local_tag, remote_tag);
        let remote_target = match contact(&request.headers)? {
            Some(c) => c.uri().detached(),
            None => return Err(DialogError::MissingHeader("Contact")),
        };
        Ok(Self {
            id,
            role: Role::Uas,
            state: DialogState::Early,
            local_seq: None,
            remote_seq: Some(cseq(&request.headers)?.seq),
            local,
            remote,
            local_target: local_target.detached(),
            remote_target,
            route_set: record_route(&request.headers)?,
            secure: request.uri.is_secure(),
        })
    }

    /// The dialog's id.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Which side this UA was.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Where the dialog is in its life.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// The CSeq of the last request sent in the dialog, if any.
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// The CSeq of the last request received in the dialog, if any.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// This UA's address, with its tag.
    pub fn local_address(&self) -> &NameAddr {
        &self.local
    }

    /// The peer's address, with its tag.
    pub fn remote_address(&self) -> &NameAddr {
        &self.remote
    }

    /// This UA's Contact URI.
    pub fn local_target(&self) -> &Uri {
        &self.local_target
    }

    /// Where requests in the dialog go: the peer's Contact URI.
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// The proxies requests in the dialog pass, in order.
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }

    /// Whether the dialog was made over `sips` (§12.1.1).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Ends the dialog (after BYE, or when its usage ends).
    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    /// The Request-URI and Route of a request in the dialog (§12.2.1.1): with no route
    /// set, the remote target and no Route; when the first route is a loose router (`lr`),
    /// the remote target and the whole route set; otherwise (a strict router) the first
    /// route's URI, without the parameters a Request-URI may not carry, and the rest of
    /// the route set followed by the remote target.
    pub fn request_target(&self) -> (Uri, Vec<NameAddr>) {
        let Some(first) = self.route_set.first() else {
            return (self.remote_target.clone(), Vec::new());
        };
        if is_loose_router(first.uri()) {
            return (self.remote_target.clone(), self.route_set.clone());
        }
        let uri = match first.uri() {
            Uri::Sip(sip) => Uri::Sip(sip.without_param("method").without_headers()),
            other => other.clone(),
        };
        let mut routes: Vec<NameAddr> = self.route_set[1..].to_vec();
        routes.push(NameAddr::new(self.remote_target.clone()));
        (uri, routes)
    }

    /// A new request in the dialog (§12.2.1.1): To, From, Call-ID from the dialog, the next
    /// CSeq, Request-URI and Route by [`Dialog::request_target`], Max-Forwards, and this
    /// UA's Contact on the methods that refresh the target or may (INVITE, UPDATE,
    /// SUBSCRIBE, NOTIFY, REFER). `via` is the top Via, with the new transaction's branch.
    /// The local CSeq advances only when the request is built.
    pub fn request(&mut self, method: Method, via: Via) -> Result<Request, DialogError> {
        if method == Method::ACK {
            return Err(DialogError::NotNewRequest("ACK"));
        }
        if method == Method::CANCEL {
            return Err(DialogError::NotNewRequest("CANCEL"));
        }
        if self.state == DialogState::Terminated {
            return Err(DialogError::Terminated);
        }
        let seq = match self.local_seq {
            None => 1,
            Some(s) if s >= MAX_CSEQ => return Err(DialogError::CSeqExhausted),
            Some(s) => s + 1,
        };
        let contact = carries_contact(&method);
        let request = self.build(method, seq, via, contact)?;
        self.local_seq = Some(seq);
        Ok(request)
    }

    /// The ACK for a 2xx to the INVITE sent with CSeq `invite_seq` (§13.2.2.4): CSeq
    /// number of the INVITE, method ACK, routed like every request of the dialog. `via`
    /// carries a new branch (the ACK of a 2xx is its own transaction).
    pub fn ack(&self, invite_seq: u32, via: Via) -> Result<Request, DialogError> {
        if self.state == DialogState::Terminated {
            return Err(DialogError::Terminated);
        }
        self.build(Method::ACK, invite_seq, via, false)
    }

    fn build(&self, method: Method, seq: u32, via: Via, contact: bool) -> Result<Request, DialogError> {
        let (uri, routes) = self.request_target();
        let mut builder = Request::builder(method, uri)
            .via(via)
            .max_forwards(MAX_FORWARDS)
            .from(self.local.clone())
            .to(self.remote.clone())
            .call_id(CallId(self.id.call_id.clone()))
            .cseq(seq);
        for route in routes {
            builder = builder.route(route);
        }
        if contact {
            builder = builder.contact(NameAddr::new(self.local_target.clone()));
        }
        builder.build().map_err(DialogError::InvalidRequest)
    }

    /// Checks a request received for this dialog (§12.2.2) and takes what it changes: the
    /// remote CSeq, and the remote target of a target refresh request (re-INVITE, UPDATE,
    /// SUBSCRIBE, NOTIFY) with a Contact. A request whose id is not this dialog's, or that
    /// arrives after it ended, is refused with 481; one whose CSeq is lower than the last
    /// with 500. ACK and CANCEL carry the CSeq of the INVITE they belong to and do not move
    /// the remote CSeq.
    pub fn receive_request(&mut self, request: &Request) -> Result<(), DialogError> {
        match DialogId::of_request(request)? {
            Some(id) if id == self.id => {}
            _ => return Err(DialogError::UnknownDialog),
        }
        if self.state == DialogState::Terminated {
            return Err(DialogError::UnknownDialog);
        }
        let seq = cseq(&request.headers)?.seq;
        if request.method == Method::ACK || request.method == Method::CANCEL {
            return Ok(());
        }
        if let Some(remote_seq) = self.remote_seq {
            if seq < remote_seq {
                return Err(DialogError::OutOfOrder { seq, remote_seq });
            }
        }
        let refreshed = if is_target_refresh(&request.method) {
            contact(&request.headers)?.map(|c| c.uri().detached())
        } else {
            None
        };
        self.remote_seq = Some(seq);
        if let Some(target) = refreshed {
            self.remote_target = target;
        }
        Ok(())
    }

    /// Takes a response to a request this UA sent in the dialog (or, for a UAC's early
    /// dialog, to the request that made it) (§12.2.1.2, §13.2.2.4):
    /// - a 2xx to a target refresh request replaces the remote target with its Contact;
    /// - a 2xx to the INVITE of an early dialog at the UAC confirms it, with the route set
    ///   taken again from the 2xx;
    /// - a non-2xx final response to that INVITE ends the early dialog;
    /// - 481 and 408 end the dialog.
    pub fn receive_response(&mut self, method: &Method, response: &Response) -> Result<(), DialogError> {
        let status = response.status;
        if self.state == DialogState::Terminated {
            return Ok(());
        }
        if status.is_success() {
            let confirming = self.state == DialogState::Early && self.role == Role::Uac && *method == Method::INVITE;
            let target = if is_target_refresh(method) || confirming {
                contact(&response.headers)?.map(|c| c.uri().detached())
            } else {
                None
            };
            if confirming {
                let mut route_set = record_route(&response.headers)?;
                route_set.reverse();
                self.route_set = route_set;
                self.state = DialogState::Confirmed;
            }
            if let Some(target) = target {
                self.remote_target = target;
            }
        } else if status.is_final() {
            let code = status.as_u16();
            if code == 481 || code == 408 || (self.state == DialogState::Early && *method == Method::INVITE) {
                self.state = DialogState::Terminated;
            }
        }
        Ok(())
    }

    /// Takes a response this UA (the UAS) sent to the request that made the dialog: a 2xx
    /// confirms an early dialog, a non-2xx final response ends it (§12.1.1, §12.3).
    pub fn response_sent(&mut self, response: &Response) {
        if self.state != DialogState::Early {
            return;
        }
        if response.status.is_success() {
            self.state = DialogState::Confirmed;
        } else if response.status.is_final() {
            self.state = DialogState::Terminated;
        }
    }

    /// Heap bytes the dialog holds beyond its own size: for reports of memory per dialog.
    pub fn heap_bytes(&self) -> usize {
        self.id.heap_bytes()
            + self.local.as_bytes().len()
            + self.remote.as_bytes().len()
            + self.local_target.as_bytes().len()
            + self.remote_target.as_bytes().len()
            + self.route_set.capacity() * size_of::<NameAddr>()
            + self.route_set.iter().map(|r| r.as_bytes().len()).sum::<usize>()
    }
}

/// Whether `method` refreshes the dialog's remote target (RFC 3261 §12.2, RFC 3311,
/// RFC 6665 §4.1.1.3... SUBSCRIBE and NOTIFY).
pub fn is_target_refresh(method: &Method) -> bool {
    *method == Method::INVITE || *method == Method::UPDATE || *method == Method::SUBSCRIBE || *method == Method::NOTIFY
}

/// Whether a request of `method` built by a dialog carries this UA's Contact.
fn carries_contact(method: &Method) -> bool {
    is_target_refresh(method) || *method == Method::REFER
}

/// Whether a route URI names a loose router (`lr`, §19.1.1).
fn is_loose_router(uri: &Uri) -> bool {
    uri.as_sip().is_some_and(|s| s.params().lr())
}

fn copy(b: &[u8]) -> Bytes {
    Bytes::copy_from_slice(b)
}

/// A header the dialog needs, as the headers' own accessor found it (the headers keep
/// what they decode of From, To, Call-ID and CSeq, for every layer).
fn required<H>(found: Option<Result<H, DecodeError>>, name: &'static str) -> Result<H, DialogError> {
    match found {
        Some(Ok(h)) => Ok(h),
        Some(Err(error)) => Err(DialogError::Malformed { header: name, error }),
        None => Err(DialogError::MissingHeader(name)),
    }
}

fn from(headers: &Headers) -> Result<header::From, DialogError> {
    required(headers.from(), "From")
}

fn to(headers: &Headers) -> Result<header::To, DialogError> {
    required(headers.to(), "To")
}

fn call_id(headers: &Headers) -> Result<CallId, DialogError> {
    required(headers.call_id(), "Call-ID")
}

fn cseq(headers: &Headers) -> Result<header::CSeq, DialogError> {
    required(headers.cseq(), "CSeq")
}

/// The first Contact address, if any (`*` counts as none).
fn contact(headers: &Headers) -> Result<Option<NameAddr>, DialogError> {
    match headers.first_contact() {
        None => Ok(None),
        Some(Ok(Contact::Address(a))) => Ok(Some(a)),
        Some(Ok(Contact::Star)) => Ok(None),
        Some(Err(error)) => Err(DialogError::Malformed { header: "Contact", error }),
    }
}

/// Every Record-Route value in order, each in its own buffer.
fn record_route(headers: &Headers) -> Result<Vec<NameAddr>, DialogError> {
    headers
        .record_route()
        .map(|r| r.map(|r| r.0.detached()).map_err(|error| DialogError::Malformed { header: "Record-Route", error }))
        .collect()
}
