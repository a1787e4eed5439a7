//! Header parameters: `*( SEMI generic-param )` with the LWS the grammar allows around them.

use std::borrow::Cow;
use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::error::DecodeError;
use crate::lex::{self, Cursor, Span};
use crate::uri::{parse_ipv6, scan_host};

/// One header parameter: its name and its value as written (a quoted value keeps its
/// quotes; see [`Param::unquoted`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param<'a> {
    /// The name (a token).
    pub name: &'a str,
    /// The value as written, if any.
    pub value: Option<&'a [u8]>,
}

impl<'a> Param<'a> {
    /// The value without the quotes and escapes of a quoted string.
    pub fn unquoted(&self) -> Option<Cow<'a, [u8]>> {
        self.value.map(|v| if v.first() == Some(&b'"') { Cow::Owned(lex::unquote(v)) } else { Cow::Borrowed(v) })
    }

    /// The value as text, when it is a token or a host (not a quoted string).
    pub fn token(&self) -> Option<&'a str> {
        self.value.filter(|v| v.first() != Some(&b'"')).map(lex::ascii)
    }
}

/// The parameters of a header value (`;tag=1928;branch=z9hG4bK...`), as written: a view into
/// the typed header that holds them. Names compare without regard to case.
#[derive(Clone, Copy, Default)]
pub struct Params<'a> {
    raw: &'a [u8],
}

impl<'a> Params<'a> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        Self { raw }
    }

    /// The parameters as written, from the first `;` (empty when there are none).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The parameters in order.
    pub fn iter(&self) -> ParamIter<'a> {
        ParamIter { cursor: Cursor::new(self.raw) }
    }

    /// The first parameter named `name`.
    pub fn get(&self, name: &str) -> Option<Param<'a>> {
        // Names are compared as bytes; only the one found is made a `str`.
        let mut it = self.iter();
        while let Some((found, value)) = it.next_raw() {
            if found.eq_ignore_ascii_case(name.as_bytes()) {
                return Some(Param { name: lex::ascii(found), value });
            }
        }
        None
    }

    /// The value of `name`, unquoted, when present with a value.
    pub fn value(&self, name: &str) -> Option<Cow<'a, [u8]>> {
        self.get(name).and_then(|p| p.unquoted())
    }

    /// Whether a parameter named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Compares the parameter lists: same names (without regard to case) with equal values,
/// in the same order.
impl PartialEq for Params<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().zip(other.iter()).all(|(a, b)| a.name.eq_ignore_ascii_case(b.name) && a.value == b.value)
            && self.iter().count() == other.iter().count()
    }
}

impl fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.raw))
    }
}

/// Iterator over [`Params`].
pub struct ParamIter<'a> {
    cursor: Cursor<'a>,
}

impl<'a> ParamIter<'a> {
    /// The next parameter's name (a token, so ASCII) and value, as bytes.
    fn next_raw(&mut self) -> Option<(&'a [u8], Option<&'a [u8]>)> {
        let c = &mut self.cursor;
        c.skip_sws();
        if !c.eat(b';') {
            return None;
        }
        c.skip_sws();
        let buf: &'a [u8] = c.buf;
        let name = c.token()?;
        let mut value = None;
        if c.eat_sep(b'=') {
            value = Some(&buf[scan_gen_value(c).ok()?]);
        }
        Some((&buf[name], value))
    }
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;

    fn next(&mut self) -> Option<Param<'a>> {
        self.next_raw().map(|(name, value)| Param { name: lex::ascii(name), value })
    }
}

/// Scans `*( SEMI generic-param )` at the cursor and returns its span (from the first `;`;
/// empty, at the cursor, when there are none). The cursor ends after the last parameter.
pub(crate) fn scan_params(c: &mut Cursor<'_>) -> Result<Span, DecodeError> {
    scan_params_checked(c, |_, _| true)
}

/// A parameter value as [`scan_params_checked`] found it.
#[derive(Clone, Copy)]
pub(crate) struct ScannedValue<'a> {
    /// The value as written.
    pub(crate) bytes: &'a [u8],
    /// Where it starts in the scanned text.
    pub(crate) at: usize,
    /// Whether it is a plain token (not a quoted string, not a host with `:` or `[ ]`).
    pub(crate) is_token: bool,
}

impl ScannedValue<'_> {
    /// Where the value ends in the scanned text.
    pub(crate) fn end(&self) -> usize {
        self.at + self.bytes.len()
    }

    /// The value's place in the scanned text.
    pub(crate) fn span(&self) -> Span {
        Span::of(self.at..self.end())
    }
}

/// [`scan_params`], also failing when `check(name, value)` rejects a parameter.
pub(crate) fn scan_params_checked(
    c: &mut Cursor<'_>,
    mut check: impl FnMut(&[u8], Option<ScannedValue<'_>>) -> bool,
) -> Result<Span, DecodeError> {
    let buf = c.buf;
    let mut i = c.pos;
    let mut start = None;
    loop {
        // SEMI = SWS ";" SWS
        let semi = lex::skip_sws(buf, i);
        if buf.get(semi) != Some(&b';') {
            break;
        }
        start.get_or_insert(semi);
        let name_start = lex::skip_sws(buf, semi + 1);
        let name_end = lex::skip_class(buf, name_start, lex::TOKEN);
        if name_end == name_start {
            return Err(DecodeError::new("expected a parameter name", name_start));
        }
        // [ EQUAL gen-value ]
        let equal = lex::skip_sws(buf, name_end);
        let value = if buf.get(equal) == Some(&b'=') {
            let mut v = Cursor { buf, pos: lex::skip_sws(buf, equal + 1) };
            let (r, is_token) = scan_gen_value_kind(&mut v)?;
            Some(ScannedValue { bytes: &buf[r.clone()], at: r.start, is_token })
        } else {
            None
        };
        if !check(&buf[name_start..name_end], value) {
            return Err(DecodeError::new("invalid parameter value", name_start));
        }
        i = value.map_or(name_end, |v| v.end());
    }
    c.pos = i;
    Ok(Span::of(start.unwrap_or(i)..i))
}

/// `gen-value = token / host / quoted-string`; a bare IPv6 address is also taken, as the
/// Via `received` parameter carries one (RFC 5118 §4.5).
pub(crate) fn scan_gen_value(c: &mut Cursor<'_>) -> Result<std::ops::Range<usize>, DecodeError> {
    scan_gen_value_kind(c).map(|(r, _)| r)
}

/// [`scan_gen_value`], also saying whether the value is a plain token.
fn scan_gen_value_kind(c: &mut Cursor<'_>) -> Result<(std::ops::Range<usize>, bool), DecodeError> {
    if c.peek() == Some(b'"') {
        return c.quoted_string().map(|r| (r, false));
    }
    let start = c.pos;
    let token_end = lex::skip_class(c.buf, start, lex::TOKEN);
    // A host may also hold ':' and '[ ]' (IPv6).
    let end = match c.buf.get(token_end) {
        Some(b':' | b'[' | b']') => c.buf[token_end..]
            .iter()
            .position(|&b| !(lex::is(b, lex::TOKEN) || matches!(b, b':' | b'[' | b']')))
            .map_or(c.buf.len(), |n| token_end + n),
        _ => token_end,
    };
    c.pos = end;
    let r = start..end;
    if r.is_empty() {
        return Err(c.error("expected a parameter value"));
    }
    if end == token_end {
        return Ok((r, true));
    }
    let v = &c.buf[r.clone()];
    let mut h = Cursor::new(v);
    if (scan_host(&mut h).is_ok() && h.at_end()) || parse_ipv6(v).is_some() {
        Ok((r, false))
    } else {
        Err(DecodeError::new("invalid parameter value", r.start))
    }
}

/// Writes `raw` with `;name[=value]` set: every earlier `name` removed, the new one last.
/// The value must be a token, a host or a quoted string (with its quotes).
pub(crate) fn write_params_with(
    out: &mut BytesMut,
    raw: &[u8],
    name: &str,
    value: Option<&str>,
) -> Result<(), DecodeError> {
    if !lex::is_token(name.as_bytes()) {
        return Err(DecodeError::new("parameter name is not a token", 0));
    }
    if let Some(v) = value {
        let mut c = Cursor::new(v.as_bytes());
        scan_gen_value(&mut c)?;
        if !c.at_end() {
            return Err(c.error("invalid parameter value"));
        }
    }
    write_params_without(out, raw, name);
    out.put_u8(b';');
    out.put_slice(name.as_bytes());
    if let Some(v) = value {
        out.put_u8(b'=');
        out.put_slice(v.as_bytes());
    }
    Ok(())
}

/// Writes `raw` without any parameter named `name`.
pub(crate) fn write_params_without(out: &mut BytesMut, raw: &[u8], name: &str) {
    let params = Params::new(raw);
    if !params.contains(name) {
        out.put_slice(raw);
        return;
    }
    for p in params.iter().filter(|p| !p.name.eq_ignore_ascii_case(name)) {
        out.put_u8(b';');
        out.put_slice(p.name.as_bytes());
        if let Some(v) = p.value {
            out.put_u8(b'=');
            out.put_slice(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(s: &'static str) -> Result<(Params<'static>, usize), DecodeError> {
        let mut c = Cursor::new(s.as_bytes());
        let span = scan_params(&mut c)?;
        Ok((Params::new(span.of_text(s.as_bytes())), c.pos))
    }

    #[test]
    fn lws_around_separators() {
        let (p, end) = scan(" ;   tag    = 1918181833n ; x ;q=\"a;b\" rest").unwrap();
        assert_eq!(end, 38);
        assert_eq!(p.iter().count(), 3);
        assert_eq!(p.get("TAG").unwrap().token(), Some("1918181833n"));
        assert_eq!(p.get("x").unwrap().value, None);
        assert_eq!(p.value("q").unwrap().as_ref(), b"a;b");
    }

    #[test]
    fn folded_params() {
        let (p, _) = scan("\r\n  ;\r\n  tag = 98asjd8").unwrap();
        assert_eq!(p.value("tag").unwrap().as_ref(), b"98asjd8");
    }

    #[test]
    fn rejects_empty_params() {
        assert!(scan(";;").is_err());
        assert!(scan(";a=").is_err());
        assert!(scan(";a=b c").is_ok());
        assert!(scan(";=b").is_err());
        assert!(scan(";a=\"open").is_err());
    }

    #[test]
    fn hosts_and_addresses_as_values() {
        let (p, _) = scan(";received=[2001:db8::9:255];maddr=192.0.2.1").unwrap();
        assert_eq!(p.value("received").unwrap().as_ref(), b"[2001:db8::9:255]");
        let (p, _) = scan(";received=2001:db8::9:255;branch=z9hG4bKas3").unwrap();
        assert_eq!(p.value("received").unwrap().as_ref(), b"2001:db8::9:255");
        assert_eq!(p.get("branch").unwrap().token(), Some("z9hG4bKas3"));
        assert!(scan(";a=b:c").is_err());
    }

    #[test]
    fn edit() {
        let mut out = BytesMut::new();
        write_params_with(&mut out, b";tag=abc;lr", "tag", Some("x")).unwrap();
        assert_eq!(&out[..], b";lr;tag=x");
        let mut out = BytesMut::new();
        write_params_without(&mut out, b";tag=abc;lr", "LR");
        assert_eq!(&out[..], b";tag=abc");
        let mut out = BytesMut::new();
        assert!(write_params_with(&mut out, b"", "bad name", None).is_err());
        assert!(write_params_with(&mut out, b"", "a", Some("b\r\nVia: x")).is_err());
        assert!(write_params_with(&mut out, b"", "a", Some("\"quoted ok\"")).is_ok());
    }
}
