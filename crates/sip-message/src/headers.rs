//! The header section: every field in order, raw, with typed access.

use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::DecodeError;
use crate::header::{self, TypedHeader};
use crate::lex::{self, ListSplitter};
use crate::name::{HeaderName, Known, Multiplicity};

/// One header field: its name and its value as received (folds included, surrounding
/// white space removed).
#[derive(Clone, PartialEq, Eq)]
pub struct Header {
    name: HeaderName,
    value: Bytes,
}

impl Header {
    /// A field with `value`, which must not contain a line break other than a fold
    /// (CRLF followed by white space), so it cannot inject another header field.
    pub fn new(name: HeaderName, value: impl Into<Bytes>) -> Result<Self, DecodeError> {
        let value = value.into();
        check_field_value(&value)?;
        let r = lex::trim_lws(&value, 0..value.len());
        Ok(Self { name, value: value.slice(r) })
    }

    /// A field from a typed header. Typed values with public fields can hold any bytes, so
    /// the encoded value is checked to decode again, unless the type says it writes only
    /// valid values ([`TypedHeader::WRITES_VALID`]). A line break outside a fold is always
    /// refused, so no value can inject another header field.
    pub fn typed<H: TypedHeader>(h: &H) -> Result<Self, DecodeError> {
        let value = h.to_bytes();
        check_field_value(&value)?;
        if !H::WRITES_VALID {
            H::decode(&value)?;
        }
        Ok(Self { name: H::NAME, value })
    }

    /// A Contact of `uri` alone (`<uri>`): this side's address in a dialog or a
    /// registration. A [`Uri`](crate::Uri) is valid by construction, so unlike
    /// [`Header::typed`] this does not decode the value again to check it.
    pub fn contact(uri: &crate::Uri) -> Self {
        Self::typed_trusted(&header::Contact::Address(header::NameAddr::new(uri.clone())))
    }

    /// A Content-Length of `len`; for 0, the length of most bodies a stack sends (none),
    /// without encoding or allocating anything.
    pub fn content_length(len: u32) -> Self {
        if len == 0 {
            return Self { name: HeaderName::CONTENT_LENGTH, value: Bytes::from_static(b"0") };
        }
        Self::typed_trusted(&header::ContentLength(len))
    }

    /// A field from a typed value the crate built itself and knows to be valid.
    pub(crate) fn typed_trusted<H: TypedHeader>(h: &H) -> Self {
        Self { name: H::NAME, value: h.to_bytes() }
    }

    /// A field from parsed input: the value is already checked and trimmed.
    pub(crate) fn from_parts(name: HeaderName, value: Bytes) -> Self {
        Self { name, value }
    }

    /// The name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The value as received.
    pub fn value(&self) -> &Bytes {
        &self.value
    }

    /// The value with folds replaced by a single space.
    pub fn value_unfolded(&self) -> Bytes {
        if memchr::memchr(b'\r', &self.value).is_none() {
            return self.value.clone();
        }
        let mut out = BytesMut::with_capacity(self.value.len());
        let mut c = lex::Cursor::new(&self.value);
        while let Some(b) = c.peek() {
            if b == b'\r' {
                c.skip_sws();
                out.put_u8(b' ');
            } else {
                out.put_u8(b);
                c.pos += 1;
            }
        }
        out.freeze()
    }

    /// Writes `Name: value\r\n` with the name as received.
    pub fn encode(&self, out: &mut BytesMut) {
        out.put_slice(self.name.spelling());
        out.put_u8(b':');
        if !self.value.is_empty() {
            out.put_u8(b' ');
            out.put_slice(&self.value);
        }
        out.put_slice(b"\r\n");
    }

    /// How many bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        let value = if self.value.is_empty() { 0 } else { 1 + self.value.len() };
        self.name.spelling().len() + 1 + value + 2
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, String::from_utf8_lossy(&self.value))
    }
}

/// Rejects a CR or LF that is not part of a fold.
fn check_field_value(v: &[u8]) -> Result<(), DecodeError> {
    let mut i = 0;
    while let Some(off) = memchr::memchr2(b'\r', b'\n', &v[i..]) {
        let at = i + off;
        let fold = v[at] == b'\r' && v.get(at + 1) == Some(&b'\n') && matches!(v.get(at + 2), Some(b' ' | b'\t'));
        if !fold {
            return Err(DecodeError::new("line break in a header value", at));
        }
        i = at + 3;
    }
    Ok(())
}

/// The header fields that get an index slot: O(1) lookup of their first occurrence, and
/// their last one, where a walk over all of their fields ends.
const HOT: [Known; 12] = [
    Known::Via,
    Known::From,
    Known::To,
    Known::CallId,
    Known::CSeq,
    Known::MaxForwards,
    Known::ContentLength,
    Known::ContentType,
    Known::Contact,
    Known::Route,
    Known::RecordRoute,
    Known::Expires,
];

const NONE: u16 = u16::MAX;

fn hot_slot(k: Known) -> Option<usize> {
    // Matches the order of `HOT`.
    Some(match k {
        Known::Via => 0,
        Known::From => 1,
        Known::To => 2,
        Known::CallId => 3,
        Known::CSeq => 4,
        Known::MaxForwards => 5,
        Known::ContentLength => 6,
        Known::ContentType => 7,
        Known::Contact => 8,
        Known::Route => 9,
        Known::RecordRoute => 10,
        Known::Expires => 11,
        _ => return None,
    })
}

/// The header fields of a message, in order, kept as received; lookups ignore name case
/// and compact forms, and the common fields are found in constant time.
#[derive(Clone)]
pub struct Headers {
    fields: Vec<Header>,
    index: [u16; HOT.len()],
    /// The last field of each indexed header (`NONE`: absent, or past `u16` indices).
    last: [u16; HOT.len()],
    /// The headers every layer a message passes reads (the transport, the transaction
    /// key, the dialog), each decoded once; forgotten when a change may alter them.
    /// (Boxed: the values are large, and a header set being built never decodes them.)
    decoded: OnceLock<Box<Decoded>>,
}

/// The top Via, From, To, Call-ID and CSeq of a header set, and the tags of From and To,
/// each decoded on first use. A message whose headers are read once pays a little for
/// keeping them (the box, a copy handed out); one a UAS acts on reads each several times
/// (validation, the transaction key, the dialog), and decodes it once instead.
#[derive(Clone, Default)]
struct Decoded {
    top_via: OnceLock<Option<Result<header::Via, DecodeError>>>,
    from: OnceLock<Option<Result<header::From, DecodeError>>>,
    to: OnceLock<Option<Result<header::To, DecodeError>>>,
    from_tag: OnceLock<Option<Result<Option<Bytes>, DecodeError>>>,
    to_tag: OnceLock<Option<Result<Option<Bytes>, DecodeError>>>,
    call_id: OnceLock<Option<Result<header::CallId, DecodeError>>>,
    cseq: OnceLock<Option<Result<header::CSeq, DecodeError>>>,
    /// The first Contact value: a dialog's remote target.
    first_contact: OnceLock<Option<Result<header::Contact, DecodeError>>>,
}

/// Whether a field named `name` can change what [`Decoded`] holds.
fn is_decoded_once(name: &HeaderName) -> bool {
    matches!(name.kind(), Some(Known::Via | Known::From | Known::To | Known::CallId | Known::CSeq | Known::Contact))
}

impl Default for Headers {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for Headers {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields
    }
}

impl Eq for Headers {}

impl Headers {
    /// No fields.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// No fields, with room for `n`.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            fields: Vec::with_capacity(n),
            index: [NONE; HOT.len()],
            last: [NONE; HOT.len()],
            decoded: OnceLock::new(),
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.fields.iter()
    }

    fn decoded(&self) -> &Decoded {
        self.decoded.get_or_init(Box::default)
    }

    /// The first value of `H` as `cell` keeps it, decoded into it on first use.
    fn kept<'a, H: TypedHeader>(
        &'a self,
        cell: &'a OnceLock<Option<Result<H, DecodeError>>>,
    ) -> &'a Option<Result<H, DecodeError>> {
        cell.get_or_init(|| self.typed())
    }

    fn reindex(&mut self) {
        self.decoded = OnceLock::new();
        self.index = [NONE; HOT.len()];
        self.last = [NONE; HOT.len()];
        for (i, f) in self.fields.iter().enumerate() {
            if let Some(slot) = f.name.kind().and_then(hot_slot) {
                let i = u16::try_from(i).unwrap_or(NONE);
                if self.index[slot] == NONE {
                    self.index[slot] = i;
                }
                self.last[slot] = i;
            }
        }
    }

    fn position(&self, name: &HeaderName) -> Option<usize> {
        if let Some(slot) = name.kind().and_then(hot_slot) {
            let i = self.index[slot];
            if i != NONE {
                return Some(usize::from(i));
            }
            if self.fields.len() < usize::from(NONE) {
                return None;
            }
        }
        self.fields.iter().position(|f| f.name == *name)
    }

    /// Whether a field of the known header `k`, one with an index slot, is present.
    pub(crate) fn has_hot(&self, k: Known) -> bool {
        match hot_slot(k) {
            Some(slot) if self.index[slot] != NONE => true,
            Some(_) if self.fields.len() < usize::from(NONE) => false,
            _ => self.contains(&HeaderName::known(k)),
        }
    }

    /// The first field named `name`.
    pub fn get(&self, name: &HeaderName) -> Option<&Header> {
        self.position(name).map(|i| &self.fields[i])
    }

    /// Whether a field named `name` is present.
    pub fn contains(&self, name: &HeaderName) -> bool {
        self.position(name).is_some()
    }

    /// Every field named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a Header> + 'a {
        let start = self.position(name).unwrap_or(self.fields.len());
        self.fields[start..].iter().filter(move |f| f.name == *name)
    }

    /// Every value of `name`: the elements of all its fields for a list header (split on
    /// commas outside quotes and angle brackets), else each field's whole value.
    pub fn values(&self, name: &HeaderName) -> Values<'_> {
        Values { inner: self.value_refs(name) }
    }

    fn value_refs(&self, name: &HeaderName) -> ValueRefs<'_> {
        let start = self.position(name).unwrap_or(self.fields.len());
        // An indexed header's fields end at its last one (unknown past `u16` indices).
        let end = match name.kind().and_then(hot_slot).map(|slot| self.last[slot]) {
            Some(last) if last != NONE && start < self.fields.len() => usize::from(last) + 1,
            _ => self.fields.len(),
        };
        ValueRefs {
            fields: self.fields[start..end].iter(),
            split: name.multiplicity() == Multiplicity::List,
            may_be_empty: header::list_may_be_empty(name),
            matcher: Matcher::new(name),
            current: None,
        }
    }

    /// The first value of `H` decoded; `None` when absent.
    pub fn typed<H: TypedHeader>(&self) -> Option<Result<H, DecodeError>> {
        // A single-valued header is the whole value of its first field.
        if H::NAME.multiplicity() == Multiplicity::Single {
            return self.get(&H::NAME).map(|f| H::decode(&f.value));
        }
        self.typed_all::<H>().next()
    }

    /// Every value of `H`, decoded one by one.
    pub fn typed_all<H: TypedHeader>(&self) -> TypedValues<'_, H> {
        TypedValues { inner: self.value_refs(&H::NAME), _marker: PhantomData }
    }

    /// Appends a field.
    pub fn push(&mut self, field: Header) {
        if is_decoded_once(field.name()) {
            self.decoded = OnceLock::new();
        }
        self.push_parsed(field);
    }

    /// Appends a field without forgetting the decode-once cache: for a set being parsed,
    /// where nothing is decoded yet (and for [`push`](Self::push), once it has forgotten).
    pub(crate) fn push_parsed(&mut self, field: Header) {
        if let Some(slot) = field.name.kind().and_then(hot_slot) {
            let i = u16::try_from(self.fields.len()).unwrap_or(NONE);
            if self.index[slot] == NONE {
                self.index[slot] = i;
            }
            self.last[slot] = i;
        }
        self.fields.push(field);
    }

    /// Appends a typed field; see [`Header::typed`] for when that fails.
    pub fn push_typed<H: TypedHeader>(&mut self, h: &H) -> Result<(), DecodeError> {
        self.push(Header::typed(h)?);
        Ok(())
    }

    /// Inserts a field at `index` (0 is the top).
    pub fn insert(&mut self, index: usize, field: Header) {
        self.fields.insert(index.min(self.fields.len()), field);
        self.reindex();
    }

    /// Inserts a typed field before every other field of its name (a proxy's Via, a
    /// pre-loaded Route), or at the end when there is none.
    pub fn insert_typed_first<H: TypedHeader>(&mut self, h: &H) -> Result<(), DecodeError> {
        let field = Header::typed(h)?;
        let at = self.position(&H::NAME).unwrap_or(self.fields.len());
        self.insert(at, field);
        Ok(())
    }

    /// Replaces every field named `H::NAME` with one holding `h`, where the first one was
    /// (or at the end).
    pub fn set_typed<H: TypedHeader>(&mut self, h: &H) -> Result<(), DecodeError> {
        self.set(Header::typed(h)?);
        Ok(())
    }

    /// Replaces every field named like `field` with it, where the first one was (or at the end).
    pub fn set(&mut self, field: Header) {
        match self.position(field.name()) {
            Some(at) => {
                let name = field.name.clone();
                self.fields[at] = field;
                let mut i = 0;
                self.fields.retain(|f| {
                    let keep = i <= at || f.name != name;
                    i += 1;
                    keep
                });
                self.reindex();
            }
            None => self.push(field),
        }
    }

    /// Removes every field named `name`; returns how many were removed.
    pub fn remove(&mut self, name: &HeaderName) -> usize {
        let before = self.fields.len();
        self.fields.retain(|f| f.name != *name);
        let removed = before - self.fields.len();
        if removed > 0 {
            self.reindex();
        }
        removed
    }

    /// Removes the first value of `name`: the first element of the first field for a list
    /// header (a proxy removing its Via, §16.7), the first field otherwise.
    pub fn remove_first_value(&mut self, name: &HeaderName) -> Option<Bytes> {
        self.decoded = OnceLock::new();
        let at = self.position(name)?;
        let field = &self.fields[at];
        if name.multiplicity() == Multiplicity::List {
            let mut parts = ListSplitter::new(&field.value);
            let first = parts.next()?;
            if let Some(second) = parts.next() {
                let value = field.value.clone();
                let rest = value.slice(second.start..);
                self.fields[at].value = rest;
                return Some(value.slice(first));
            }
        }
        let removed = self.fields.remove(at);
        self.reindex();
        Some(removed.value)
    }

    /// Writes every field.
    pub fn encode(&self, out: &mut BytesMut) {
        for f in &self.fields {
            f.encode(out);
        }
    }

    /// How many bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        self.fields.iter().map(Header::encoded_len).sum()
    }

    /// Checks every value of every header this crate knows against its grammar.
    pub(crate) fn validate(&self) -> Result<(), (HeaderName, DecodeError)> {
        // The first field of each header decoded once is checked by decoding it into the
        // cache, where the layers above then find it (for Via, its first value); one that
        // fails is checked again below, so the error is the same as without the cache.
        let first = |name: &HeaderName| self.position(name);
        let d = self.decoded();
        let decoded_ok = [
            (first(&HeaderName::FROM), self.kept(&d.from).as_ref().is_some_and(Result::is_ok)),
            (first(&HeaderName::TO), self.kept(&d.to).as_ref().is_some_and(Result::is_ok)),
            (first(&HeaderName::CALL_ID), self.kept(&d.call_id).as_ref().is_some_and(Result::is_ok)),
            (first(&HeaderName::CSEQ), self.kept(&d.cseq).as_ref().is_some_and(Result::is_ok)),
        ];
        // The first value of a list header decoded once is checked the same way.
        let top_via = first(&HeaderName::VIA).filter(|_| self.kept(&d.top_via).as_ref().is_some_and(Result::is_ok));
        let first_contact =
            first(&HeaderName::CONTACT).filter(|_| self.kept(&d.first_contact).as_ref().is_some_and(Result::is_ok));
        for (i, f) in self.fields.iter().enumerate() {
            if !f.name.is_known() || decoded_ok.contains(&(Some(i), true)) {
                continue;
            }
            let name = &f.name;
            let split = name.multiplicity() == Multiplicity::List;
            if split {
                if f.value.is_empty() && header::list_may_be_empty(name) {
                    continue;
                }
                let decoded_first = usize::from(top_via == Some(i) || first_contact == Some(i));
                for r in ListSplitter::new(&f.value).skip(decoded_first) {
                    let start = r.start;
                    header::validate_value(name, &f.value.slice(r)).map_err(|e| (name.clone(), e.shift(start)))?;
                }
            } else {
                header::validate_value(name, &f.value).map_err(|e| (name.clone(), e))?;
            }
        }
        Ok(())
    }

    /// `Via` values, top first.
    pub fn via(&self) -> TypedValues<'_, header::Via> {
        self.typed_all()
    }

    /// The top `Via` (decoded once, however often asked for).
    pub fn top_via(&self) -> Option<Result<header::Via, DecodeError>> {
        self.kept(&self.decoded().top_via).clone()
    }

    /// `From` (decoded once, however often asked for).
    pub fn from(&self) -> Option<Result<header::From, DecodeError>> {
        self.kept(&self.decoded().from).clone()
    }

    /// `To` (decoded once, however often asked for).
    pub fn to(&self) -> Option<Result<header::To, DecodeError>> {
        self.kept(&self.decoded().to).clone()
    }

    /// The `tag` of `From`, found without decoding the address
    /// ([`NameAddr::tag_of`](header::NameAddr::tag_of)), once however often asked for:
    /// every layer matching a request to its dialog reads it. `None` without a From.
    pub fn from_tag(&self) -> Option<Result<Option<Bytes>, DecodeError>> {
        let d = self.decoded();
        let decoded = || d.from.get().and_then(|f| f.as_ref()?.as_ref().ok()).map(|f| &f.0);
        d.from_tag.get_or_init(|| self.tag_of(&HeaderName::FROM, decoded())).clone()
    }

    /// The `tag` of `To`, as [`from_tag`](Self::from_tag) finds that of From.
    pub fn to_tag(&self) -> Option<Result<Option<Bytes>, DecodeError>> {
        let d = self.decoded();
        let decoded = || d.to.get().and_then(|t| t.as_ref()?.as_ref().ok()).map(|t| &t.0);
        d.to_tag.get_or_init(|| self.tag_of(&HeaderName::TO, decoded())).clone()
    }

    /// The tag of the first field `name` (From or To): taken from `decoded`, that field
    /// already decoded, when it is; else found without decoding.
    fn tag_of(
        &self,
        name: &HeaderName,
        decoded: Option<&header::NameAddr>,
    ) -> Option<Result<Option<Bytes>, DecodeError>> {
        if let Some(address) = decoded {
            return Some(Ok(address.tag().map(|tag| address.as_bytes().slice_ref(tag.as_bytes()))));
        }
        self.get(name).map(|f| header::NameAddr::tag_of(&f.value))
    }

    /// `Call-ID` (decoded once, however often asked for).
    pub fn call_id(&self) -> Option<Result<header::CallId, DecodeError>> {
        self.kept(&self.decoded().call_id).clone()
    }

    /// `CSeq` (decoded once, however often asked for).
    pub fn cseq(&self) -> Option<Result<header::CSeq, DecodeError>> {
        self.kept(&self.decoded().cseq).clone()
    }

    /// `Max-Forwards`.
    pub fn max_forwards(&self) -> Option<Result<header::MaxForwards, DecodeError>> {
        self.typed()
    }

    /// `Content-Length`.
    pub fn content_length(&self) -> Option<Result<header::ContentLength, DecodeError>> {
        self.typed()
    }

    /// `Content-Type`.
    pub fn content_type(&self) -> Option<Result<header::ContentType, DecodeError>> {
        self.typed()
    }

    /// `Contact` values.
    pub fn contact(&self) -> TypedValues<'_, header::Contact> {
        self.typed_all()
    }

    /// The first `Contact` value (decoded once, however often asked for): the remote
    /// target a dialog takes from a request or response.
    pub fn first_contact(&self) -> Option<Result<header::Contact, DecodeError>> {
        self.kept(&self.decoded().first_contact).clone()
    }

    /// `Route` values, in order.
    pub fn route(&self) -> TypedValues<'_, header::Route> {
        self.typed_all()
    }

    /// `Record-Route` values, in order.
    pub fn record_route(&self) -> TypedValues<'_, header::RecordRoute> {
        self.typed_all()
    }

    /// `Expires`.
    pub fn expires(&self) -> Option<Result<header::Expires, DecodeError>> {
        self.typed()
    }

    /// `Require` option tags.
    pub fn require(&self) -> TypedValues<'_, header::Require> {
        self.typed_all()
    }

    /// `Supported` option tags.
    pub fn supported(&self) -> TypedValues<'_, header::Supported> {
        self.typed_all()
    }

    /// Whether `Supported` or `Require` lists the option tag `tag`.
    pub fn supports(&self, tag: &str) -> bool {
        let eq = |v: &[u8]| v.eq_ignore_ascii_case(tag.as_bytes());
        self.supported().any(|s| s.is_ok_and(|s| eq(&s.0))) || self.require().any(|s| s.is_ok_and(|s| eq(&s.0)))
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.fields).finish()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;

    fn into_iter(self) -> Self::IntoIter {
        self.fields.iter()
    }
}

/// Which fields an iterator picks.
#[derive(Clone)]
enum Matcher {
    Known(Known),
    Other(HeaderName),
}

impl Matcher {
    fn new(name: &HeaderName) -> Self {
        match name.kind() {
            Some(k) => Self::Known(k),
            None => Self::Other(name.clone()),
        }
    }

    #[inline]
    fn matches(&self, f: &Header) -> bool {
        match self {
            Self::Known(k) => f.name.kind() == Some(*k),
            Self::Other(n) => f.name == *n,
        }
    }
}

/// Iterator over the values of one header: see [`Headers::values`].
pub struct Values<'a> {
    inner: ValueRefs<'a>,
}

impl Iterator for Values<'_> {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        self.inner.next().map(|v| match v {
            ValueRef::Whole(b) => b.clone(),
            ValueRef::Part(b) => b,
        })
    }
}

/// One value: a whole field value, borrowed, or one element of a list, sliced out.
enum ValueRef<'a> {
    Whole(&'a Bytes),
    Part(Bytes),
}

impl ValueRef<'_> {
    fn bytes(&self) -> &Bytes {
        match self {
            Self::Whole(b) => b,
            Self::Part(b) => b,
        }
    }
}

struct ValueRefs<'a> {
    fields: std::slice::Iter<'a, Header>,
    matcher: Matcher,
    split: bool,
    may_be_empty: bool,
    current: Option<(&'a Bytes, ListSplitter<'a>)>,
}

impl<'a> Iterator for ValueRefs<'a> {
    type Item = ValueRef<'a>;

    fn next(&mut self) -> Option<ValueRef<'a>> {
        loop {
            if let Some((value, parts)) = &mut self.current {
                if let Some(r) = parts.next() {
                    return Some(ValueRef::Part(value.slice(r)));
                }
                self.current = None;
            }
            let matcher = &self.matcher;
            let f: &'a Header = self.fields.find(|f| matcher.matches(f))?;
            if !self.split {
                return Some(ValueRef::Whole(&f.value));
            }
            if f.value.is_empty() && self.may_be_empty {
                continue;
            }
            // A value without a comma is one element: no need to split it.
            if memchr::memchr(b',', &f.value).is_none() {
                return Some(ValueRef::Whole(&f.value));
            }
            self.current = Some((&f.value, ListSplitter::new(&f.value)));
        }
    }
}

/// Iterator over the decoded values of a typed header: see [`Headers::typed_all`].
pub struct TypedValues<'a, H> {
    inner: ValueRefs<'a>,
    _marker: PhantomData<fn() -> H>,
}

impl<H: TypedHeader> Iterator for TypedValues<'_, H> {
    type Item = Result<H, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|v| H::decode(v.bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{CallId, Contact, Subject, Supported, Transport, Via};

    fn h(name: &'static str, value: &'static str) -> Header {
        Header::new(HeaderName::from_static(name), Bytes::from_static(value.as_bytes())).unwrap()
    }

    #[test]
    fn a_contact_of_a_uri_is_what_the_checked_typed_one_is() {
        for text in [
            "sip:alice@192.0.2.1:5060",
            "sips:[2001:db8::1]:5061;transport=tcp;lr",
            "sip:bob%20x@example.com;user=phone?subject=hi&priority=urgent",
            "tel:+1-201-555-0123;ext=12",
            "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        ] {
            let uri = crate::Uri::parse(text).unwrap();
            let checked = Header::typed(&Contact::Address(header::NameAddr::new(uri.clone()))).unwrap();
            let contact = Header::contact(&uri);
            assert_eq!(contact, checked, "{text}");
            assert_eq!(Contact::decode(contact.value()).unwrap(), Contact::Address(header::NameAddr::new(uri)));
        }
    }

    #[test]
    fn a_tag_is_the_same_whether_its_address_was_decoded_first() {
        for value in [
            "\"Alice; A\" <sip:alice@example.com;tag=not-this>;tag=1928301774",
            "<sip:bob@example.com>",
            "sip:carol@example.com;tag=x-1;other",
            "Dave <sip:dave@example.com>;TAG=Mixed.Case;tag=second",
            "<sip:eve@example.com>;tag=\"quoted\"",
        ] {
            let fields = |name| {
                let mut hs = Headers::new();
                hs.push(h(name, value));
                hs
            };
            let (from, to) = (fields("From"), fields("To"));
            let (from_first, to_first) = (fields("From"), fields("To"));
            assert!(from_first.from().unwrap().is_ok() && to_first.to().unwrap().is_ok(), "{value}");
            assert_eq!(from_first.from_tag(), from.from_tag(), "{value}");
            assert_eq!(to_first.to_tag(), to.to_tag(), "{value}");
        }
    }

    #[test]
    fn a_content_length_is_what_the_typed_one_is() {
        for len in [0, 1, 300, u32::MAX] {
            assert_eq!(Header::content_length(len), Header::typed(&header::ContentLength(len)).unwrap());
        }
    }

    #[test]
    fn hot_slots_match_the_table() {
        for (i, &k) in HOT.iter().enumerate() {
            assert_eq!(hot_slot(k), Some(i));
        }
    }

    #[test]
    fn lookup_and_lists() {
        let mut hs = Headers::new();
        hs.push(h("v", "SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b.example.com;branch=z9hG4bK2"));
        hs.push(h("Subject", "x"));
        hs.push(h("VIA", "SIP/2.0/TCP c.example.com;branch=z9hG4bK3"));
        hs.push(h("Contact", "<sip:a@b>, \"x, y\" <sip:c@d>"));
        let hosts: Vec<String> = hs.via().map(|v| v.unwrap().host().to_string()).collect();
        assert_eq!(hosts, ["a.example.com", "b.example.com", "c.example.com"]);
        assert_eq!(hs.contact().count(), 2);
        assert_eq!(hs.first_contact(), hs.contact().next());
        assert_eq!(hs.get_all(&HeaderName::VIA).count(), 2);
        assert!(hs.get(&HeaderName::from_static("subject")).is_some());
        assert!(hs.get(&HeaderName::from_static("X-None")).is_none());
        assert_eq!(hs.top_via().unwrap().unwrap().host().as_str(), "a.example.com");
    }

    #[test]
    fn remove_first_value_pops_a_list_element() {
        let mut hs = Headers::new();
        hs.push(h("Via", "SIP/2.0/UDP a.example.com, SIP/2.0/UDP b.example.com"));
        hs.push(h("Via", "SIP/2.0/UDP c.example.com"));
        assert_eq!(hs.remove_first_value(&HeaderName::VIA).unwrap().as_ref(), b"SIP/2.0/UDP a.example.com");
        assert_eq!(hs.remove_first_value(&HeaderName::VIA).unwrap().as_ref(), b"SIP/2.0/UDP b.example.com");
        assert_eq!(hs.len(), 1);
        assert_eq!(hs.top_via().unwrap().unwrap().host().as_str(), "c.example.com");
    }

    #[test]
    fn edits_keep_the_index() {
        let mut hs = Headers::new();
        hs.push(h("Subject", "x"));
        hs.push(h("Via", "SIP/2.0/UDP b.example.com"));
        let top = Via::new(&Transport::UDP, &"a.example.com".parse().unwrap(), None);
        hs.insert_typed_first(&top).unwrap();
        assert_eq!(hs.top_via().unwrap().unwrap().host().as_str(), "a.example.com");
        assert_eq!(hs.iter().nth(1).unwrap().name(), &HeaderName::VIA);
        hs.set(h("Via", "SIP/2.0/UDP z.example.com"));
        assert_eq!(hs.via().count(), 1);
        assert_eq!(hs.remove(&HeaderName::VIA), 1);
        assert!(hs.top_via().is_none());
    }

    #[test]
    fn a_value_decoded_once_follows_every_change() {
        let mut hs = Headers::new();
        assert!(hs.from().is_none() && hs.cseq().is_none(), "absent, and remembered as absent");
        hs.push(h("From", "<sip:a@example.com>;tag=1"));
        hs.push(h("CSeq", "1 INVITE"));
        hs.push(h("Call-ID", "x@example.com"));
        assert_eq!(hs.from().unwrap().unwrap().tag(), Some("1"));
        assert_eq!(hs.cseq().unwrap().unwrap().seq, 1);
        assert_eq!(hs.from_tag().unwrap().unwrap().as_deref(), Some(&b"1"[..]));
        assert!(hs.to_tag().is_none());
        hs.set(h("f", "<sip:a@example.com>;tag=2"));
        assert_eq!(hs.from().unwrap().unwrap().tag(), Some("2"));
        assert_eq!(hs.from_tag().unwrap().unwrap().as_deref(), Some(&b"2"[..]));
        hs.set(h("CSeq", "2 BYE"));
        assert_eq!(hs.cseq().unwrap().unwrap().seq, 2);
        let copy = hs.clone();
        hs.remove(&HeaderName::CALL_ID);
        assert!(hs.call_id().is_none());
        assert_eq!(&copy.call_id().unwrap().unwrap().0[..], b"x@example.com", "a copy keeps its own");
        assert!(hs.first_contact().is_none());
        hs.push(h("Contact", "<sip:b@example.com>"));
        hs.push(h("Contact", "<sip:c@example.com>"));
        let first = |hs: &Headers| hs.first_contact().unwrap().unwrap().address().map(|a| a.uri().to_string());
        assert_eq!(first(&hs).as_deref(), Some("sip:b@example.com"));
        hs.remove_first_value(&HeaderName::CONTACT);
        assert_eq!(first(&hs).as_deref(), Some("sip:c@example.com"));
        hs.insert(0, h("To", "not a name-addr <"));
        assert!(hs.to().unwrap().is_err());
        assert!(hs.to_tag().unwrap().is_err());
    }

    #[test]
    fn empty_lists() {
        let mut hs = Headers::new();
        hs.push(h("Supported", ""));
        assert_eq!(hs.typed_all::<Supported>().count(), 0);
        hs.push(h("Contact", ""));
        assert!(hs.typed_all::<Contact>().next().unwrap().is_err());
    }

    #[test]
    fn typed_values_are_checked_before_they_become_fields() {
        let mut hs = Headers::new();
        let injected = Subject(Bytes::from_static(b"hi\r\nVia: SIP/2.0/UDP evil"));
        assert!(hs.push_typed(&injected).is_err());
        let bad_call_id = CallId(Bytes::from_static(b"has space"));
        assert!(hs.set_typed(&bad_call_id).is_err());
        assert!(hs.is_empty());
        assert!(hs.push_typed(&Subject(Bytes::from_static(b"fine"))).is_ok());
    }

    #[test]
    fn no_header_injection() {
        assert!(Header::new(HeaderName::SUBJECT, "a\r\nVia: x").is_err());
        assert!(Header::new(HeaderName::SUBJECT, "a\nb").is_err());
        assert!(Header::new(HeaderName::SUBJECT, "a\rb").is_err());
        let folded = Header::new(HeaderName::SUBJECT, "a\r\n b").unwrap();
        assert_eq!(folded.value_unfolded().as_ref(), b"a b");
    }
}
