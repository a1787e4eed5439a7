//! Byte classes and a cursor for the RFC 3261 §25 grammar.
//!
//! Every scanner in the crate works on byte ranges of one input slice and hands out
//! `Range<usize>`s; the callers turn those into `Bytes` slices of the received buffer.

use std::ops::Range;

use crate::error::DecodeError;

/// `ALPHA`
pub(crate) const ALPHA: u32 = 1 << 0;
/// `DIGIT`
pub(crate) const DIGIT: u32 = 1 << 1;
/// `HEXDIG`
pub(crate) const HEX: u32 = 1 << 2;
/// `token` characters.
pub(crate) const TOKEN: u32 = 1 << 3;
/// `word` characters (Call-ID).
pub(crate) const WORD: u32 = 1 << 4;
/// `unreserved` = alphanum / mark.
pub(crate) const UNRESERVED: u32 = 1 << 5;
/// `reserved`.
pub(crate) const RESERVED: u32 = 1 << 6;
/// `user-unreserved`.
pub(crate) const USER_UNRESERVED: u32 = 1 << 7;
/// The extra characters of `password`: "&" / "=" / "+" / "$" / ",".
pub(crate) const PASSWORD_EXTRA: u32 = 1 << 8;
/// `param-unreserved`.
pub(crate) const PARAM_UNRESERVED: u32 = 1 << 9;
/// `hnv-unreserved`.
pub(crate) const HNV_UNRESERVED: u32 = 1 << 10;
/// Characters of a `scheme` after its first letter.
pub(crate) const SCHEME: u32 = 1 << 11;
/// Characters of a hostname or IPv4 address: alphanum / "-" / ".".
pub(crate) const HOST: u32 = 1 << 12;
/// `WSP`: SP / HTAB.
pub(crate) const WSP: u32 = 1 << 13;
/// Printable US-ASCII and UTF-8 octets allowed as `TEXT-UTF8char` (no controls).
pub(crate) const TEXT: u32 = 1 << 14;
/// Characters of a SIP URI's `userinfo` before the `@`: user, `:` and password, `%`.
pub(crate) const USERINFO: u32 = 1 << 15;
/// [`USERINFO`] without `;`, `?` and `,`, which end a URI outside angle brackets (§20.10).
pub(crate) const USERINFO_BARE: u32 = 1 << 16;
/// `qdtext` without its LWS: SP, HTAB, `!`, `#`–`[`, `]`–`~` and UTF-8 octets.
pub(crate) const QDTEXT: u32 = 1 << 17;
/// `alphanum`: [`ALPHA`] or [`DIGIT`], as one class for [`skip_class`].
pub(crate) const ALNUM: u32 = 1 << 18;

const fn build() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0u32;
        let alpha = b.is_ascii_alphabetic();
        let digit = b.is_ascii_digit();
        if alpha {
            c |= ALPHA;
        }
        if digit {
            c |= DIGIT;
        }
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        let alnum = alpha || digit;
        let mark = matches!(b, b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')');
        let token = alnum || matches!(b, b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~');
        if token {
            c |= TOKEN;
        }
        if token
            || matches!(b, b'(' | b')' | b'<' | b'>' | b':' | b'\\' | b'"' | b'/' | b'[' | b']' | b'?' | b'{' | b'}')
        {
            c |= WORD;
        }
        if alnum || mark {
            c |= UNRESERVED;
        }
        if matches!(b, b';' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b',') {
            c |= RESERVED;
        }
        if matches!(b, b'&' | b'=' | b'+' | b'$' | b',' | b';' | b'?' | b'/') {
            c |= USER_UNRESERVED;
        }
        if matches!(b, b'&' | b'=' | b'+' | b'$' | b',') {
            c |= PASSWORD_EXTRA;
        }
        if matches!(b, b'[' | b']' | b'/' | b':' | b'&' | b'+' | b'$') {
            c |= PARAM_UNRESERVED;
        }
        if matches!(b, b'[' | b']' | b'/' | b'?' | b':' | b'+' | b'$') {
            c |= HNV_UNRESERVED;
        }
        if alnum || matches!(b, b'+' | b'-' | b'.') {
            c |= SCHEME;
        }
        if alnum || matches!(b, b'-' | b'.') {
            c |= HOST;
        }
        if b == b' ' || b == b'\t' {
            c |= WSP;
        }
        if (b >= 0x21 && b <= 0x7e) || b >= 0x80 {
            c |= TEXT;
        }
        if b == b' ' || b == b'\t' || b == 0x21 || (b >= 0x23 && b <= 0x5b) || (b >= 0x5d && b <= 0x7e) || b >= 0x80 {
            c |= QDTEXT;
        }
        if c & (UNRESERVED | USER_UNRESERVED | PASSWORD_EXTRA) != 0 || b == b':' || b == b'%' {
            c |= USERINFO;
            if !matches!(b, b';' | b'?' | b',') {
                c |= USERINFO_BARE;
            }
        }
        if c & (ALPHA | DIGIT) != 0 {
            c |= ALNUM;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CLASS: [u32; 256] = build();

/// Whether `b` belongs to any of the classes in `class`.
#[inline]
pub(crate) fn is(b: u8, class: u32) -> bool {
    CLASS[b as usize] & class != 0
}

/// Whether every byte of `s` is a token character and `s` is not empty.
#[inline]
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is(b, TOKEN))
}

/// Whether `s` is `1*DIGIT`.
#[inline]
pub(crate) fn is_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// How many digits [`put_decimal`] writes for `v`.
pub(crate) fn decimal_len(v: u32) -> usize {
    v.checked_ilog10().map_or(1, |digits| digits as usize + 1)
}

/// Writes `v` in decimal, without the allocation of `to_string`.
pub(crate) fn put_decimal(out: &mut bytes::BytesMut, v: u32) {
    let mut digits = [0u8; 10];
    let mut at = digits.len();
    let mut rest = v;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Parses `1*DIGIT` into a `u32`, failing on overflow.
pub(crate) fn parse_u32(s: &[u8]) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &b in s {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u32::from(digit))?;
    }
    Some(v)
}

/// The value of a hex digit.
#[inline]
pub(crate) fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Checks that `s` consists of characters of `class` or `%HH` escapes, and is not empty
/// when `non_empty` is set.
pub(crate) fn check_escaped(s: &[u8], class: u32, non_empty: bool) -> bool {
    if non_empty && s.is_empty() {
        return false;
    }
    // Most text has no escapes: skip the run of plain characters first.
    let Some(mut i) = s.iter().position(|&b| !is(b, class)) else {
        return true;
    };
    while i < s.len() {
        let b = s[i];
        if b == b'%' {
            if i + 2 >= s.len() {
                return false;
            }
            if hex_value(s[i + 1]).is_none() || hex_value(s[i + 2]).is_none() {
                return false;
            }
            i += 3;
        } else if is(b, class) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// Trims leading and trailing linear white space (SP, HTAB, CR, LF) from a range of `buf`.
pub(crate) fn trim_lws(buf: &[u8], mut r: Range<usize>) -> Range<usize> {
    let lws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    // The common case, a header value after `: `: one space before, none after.
    if r.end > r.start + 1 && buf[r.start] == b' ' && !lws(buf[r.start + 1]) && !lws(buf[r.end - 1]) {
        return r.start + 1..r.end;
    }
    while r.start < r.end && lws(buf[r.start]) {
        r.start += 1;
    }
    while r.end > r.start && lws(buf[r.end - 1]) {
        r.end -= 1;
    }
    r
}

/// A byte range of a typed value's text, stored compactly. `Span::NONE` marks an absent
/// optional component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    /// An absent component.
    pub(crate) const NONE: Self = Self { start: u32::MAX, end: u32::MAX };

    /// The span of `r`. Typed values come from one message, which the parse limits keep
    /// far below 4 GiB; a larger range saturates and reads as absent.
    #[inline]
    pub(crate) fn of(r: Range<usize>) -> Self {
        match (u32::try_from(r.start), u32::try_from(r.end)) {
            (Ok(start), Ok(end)) => Self { start, end },
            _ => Self::NONE,
        }
    }

    /// Whether the component is present.
    #[inline]
    pub(crate) fn is_some(self) -> bool {
        self.start != u32::MAX
    }

    /// The range, if present.
    #[inline]
    pub(crate) fn range(self) -> Option<Range<usize>> {
        self.is_some().then_some(self.start as usize..self.end as usize)
    }

    /// The bytes of `text` in this span (empty when absent).
    #[inline]
    pub(crate) fn of_text(self, text: &[u8]) -> &[u8] {
        match self.range() {
            Some(r) => text.get(r).unwrap_or_default(),
            None => &[],
        }
    }

    /// The bytes of `text` in this span, if present.
    #[inline]
    pub(crate) fn get(self, text: &[u8]) -> Option<&[u8]> {
        self.range().and_then(|r| text.get(r))
    }
}

/// `s` as text: callers pass ASCII-only grammar elements (tokens, hosts, URIs), so this
/// never loses anything; invalid UTF-8 reads as empty.
#[inline]
pub(crate) fn ascii(s: &[u8]) -> &str {
    std::str::from_utf8(s).unwrap_or("")
}

/// The index after the `SWS` (white space, folds included) that starts at `i` of `buf`.
#[inline]
pub(crate) fn skip_sws(buf: &[u8], mut i: usize) -> usize {
    // Most separators have no white space around them.
    if !matches!(buf.get(i), Some(b' ' | b'\t' | b'\r')) {
        return i;
    }
    loop {
        match buf.get(i) {
            Some(b' ' | b'\t') => i += 1,
            Some(b'\r') if buf.get(i + 1) == Some(&b'\n') && matches!(buf.get(i + 2), Some(b' ' | b'\t')) => i += 3,
            _ => return i,
        }
    }
}

/// The index after the run of `class` characters that starts at `i` of `buf`.
#[inline]
pub(crate) fn skip_class(buf: &[u8], mut i: usize, class: u32) -> usize {
    // Eight bytes per step, with one bounds check for the eight: names, hosts, tokens and
    // Call-IDs are runs of a class, and the scan over them is most of a parse.
    while let Some(group) = buf.get(i..i + 8).and_then(|g| <&[u8; 8]>::try_from(g).ok()) {
        // Written out: a loop over the eight is not unrolled, and the per-byte loop
        // control is what this saves.
        let [b0, b1, b2, b3, b4, b5, b6, b7] = *group;
        let first_outside = if !is(b0, class) {
            0
        } else if !is(b1, class) {
            1
        } else if !is(b2, class) {
            2
        } else if !is(b3, class) {
            3
        } else if !is(b4, class) {
            4
        } else if !is(b5, class) {
            5
        } else if !is(b6, class) {
            6
        } else if !is(b7, class) {
            7
        } else {
            i += 8;
            continue;
        };
        return i + first_outside;
    }
    match buf.get(i..) {
        Some(rest) => i + rest.iter().position(|&b| !is(b, class)).unwrap_or(rest.len()),
        None => i,
    }
}

/// A position in one input slice, with the scanners of the §25 grammar.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    pub(crate) buf: &'a [u8],
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The byte under the cursor.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The byte `n` positions after the cursor.
    #[inline]
    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.buf.get(self.pos + n).copied()
    }

    /// Whether the whole input is consumed.
    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Consumes `b` if it is under the cursor.
    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// An error at the cursor.
    pub(crate) fn error(&self, reason: &'static str) -> DecodeError {
        DecodeError::new(reason, self.pos)
    }

    /// Consumes bytes while they are in `class`; returns the consumed range.
    #[inline]
    pub(crate) fn take_while(&mut self, class: u32) -> Range<usize> {
        let start = self.pos;
        self.pos = skip_class(self.buf, start, class);
        start..self.pos
    }

    /// Consumes bytes while `f` holds; returns the consumed range.
    #[inline]
    pub(crate) fn take_while_fn(&mut self, f: impl Fn(u8) -> bool) -> Range<usize> {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if f(b) {
                self.pos += 1;
            } else {
                break;
            }
        }
        start..self.pos
    }

    /// Skips `SWS` (optional linear white space, including a line fold); returns whether
    /// anything was skipped.
    #[inline]
    pub(crate) fn skip_sws(&mut self) -> bool {
        let start = self.pos;
        self.pos = skip_sws(self.buf, start);
        self.pos != start
    }

    /// Consumes `SWS sep SWS` (the separators SEMI, COMMA, EQUAL, SLASH, COLON of §25.1).
    #[inline]
    pub(crate) fn eat_sep(&mut self, sep: u8) -> bool {
        let save = self.pos;
        self.skip_sws();
        if self.eat(sep) {
            self.skip_sws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// Like [`Cursor::eat_sep`], failing with `reason` when the separator is missing.
    pub(crate) fn expect_sep(&mut self, sep: u8, reason: &'static str) -> Result<(), DecodeError> {
        if self.eat_sep(sep) { Ok(()) } else { Err(self.error(reason)) }
    }

    /// Consumes a `token`.
    #[inline]
    pub(crate) fn token(&mut self) -> Option<Range<usize>> {
        let r = self.take_while(TOKEN);
        if r.is_empty() { None } else { Some(r) }
    }

    /// Consumes a token, failing with `reason` when there is none.
    pub(crate) fn expect_token(&mut self, reason: &'static str) -> Result<Range<usize>, DecodeError> {
        self.token().ok_or_else(|| self.error(reason))
    }

    /// Consumes a `quoted-string` starting at the cursor's `DQUOTE`; returns its range
    /// including both quotes.
    pub(crate) fn quoted_string(&mut self) -> Result<Range<usize>, DecodeError> {
        let start = self.pos;
        if !self.eat(b'"') {
            return Err(self.error("expected a quoted string"));
        }
        let buf = self.buf;
        let mut i = self.pos;
        loop {
            while buf.get(i).is_some_and(|&b| is(b, QDTEXT)) {
                i += 1;
            }
            match buf.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(start..self.pos);
                }
                // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
                Some(b'\\') => match buf.get(i + 1) {
                    Some(&c) if c <= 0x7f && c != b'\r' && c != b'\n' => i += 2,
                    _ => return Err(DecodeError::new("invalid quoted-pair", i)),
                },
                // A fold (CRLF WSP) is LWS inside the quotes.
                Some(b'\r') if buf.get(i + 1) == Some(&b'\n') && matches!(buf.get(i + 2), Some(b' ' | b'\t')) => i += 3,
                Some(b'\r' | b'\n') => return Err(DecodeError::new("line break inside a quoted string", i)),
                Some(_) => return Err(DecodeError::new("control character inside a quoted string", i)),
                None => return Err(DecodeError::new("unterminated quoted string", start)),
            }
        }
    }

    /// Consumes a `comment` (`( ... )`, nested, with quoted-pairs) starting at `(`; returns
    /// its range including the parentheses.
    pub(crate) fn comment(&mut self) -> Result<Range<usize>, DecodeError> {
        let start = self.pos;
        if !self.eat(b'(') {
            return Err(self.error("expected a comment"));
        }
        let mut depth = 1usize;
        while depth > 0 {
            let Some(b) = self.peek() else {
                self.pos = start;
                return Err(self.error("unterminated comment"));
            };
            match b {
                b'(' => depth += 1,
                b')' => depth -= 1,
                b'\\' => {
                    if !matches!(self.peek_at(1), Some(c) if c <= 0x7f && c != b'\r' && c != b'\n') {
                        return Err(self.error("invalid quoted-pair"));
                    }
                    self.pos += 1;
                }
                b'\r' => {
                    if self.peek_at(1) == Some(b'\n') && matches!(self.peek_at(2), Some(b' ' | b'\t')) {
                        self.pos += 2;
                    } else {
                        return Err(self.error("line break inside a comment"));
                    }
                }
                b' ' | b'\t' | 0x21..=0x7e | 0x80..=0xff => {}
                _ => return Err(self.error("control character inside a comment")),
            }
            self.pos += 1;
        }
        Ok(start..self.pos)
    }
}

/// Removes the quotes and quoted-pair escapes of a `quoted-string` (given with its quotes).
pub(crate) fn unquote(quoted: &[u8]) -> Vec<u8> {
    let inner = if quoted.len() >= 2 && quoted[0] == b'"' && quoted[quoted.len() - 1] == b'"' {
        &quoted[1..quoted.len() - 1]
    } else {
        quoted
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        if inner[i] == b'\\' && i + 1 < inner.len() {
            out.push(inner[i + 1]);
            i += 2;
        } else {
            out.push(inner[i]);
            i += 1;
        }
    }
    out
}

/// Writes `text` as a `quoted-string`: `"`, `\` and control characters as quoted-pairs;
/// a CR or LF, which no quoted string can hold, as a space.
pub(crate) fn write_quoted(out: &mut bytes::BytesMut, text: &[u8]) {
    out.extend_from_slice(b"\"");
    for &b in text {
        if is(b, QDTEXT) {
            out.extend_from_slice(&[b]);
        } else if b == b'\r' || b == b'\n' {
            // No quoted string can hold a line break, escaped or not.
            out.extend_from_slice(b" ");
        } else {
            // `"`, `\` and the control characters go as a quoted-pair.
            out.extend_from_slice(&[b'\\', b]);
        }
    }
    out.extend_from_slice(b"\"");
}

/// Splits a header value on the commas that separate list elements: those outside quoted
/// strings, angle brackets and comments. Yields trimmed, non-empty element ranges; an empty
/// element (two commas in a row) is yielded as an empty range so callers can reject it.
pub(crate) struct ListSplitter<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> ListSplitter<'a> {
    /// Splits `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0, done: false }
    }
}

impl Iterator for ListSplitter<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        if self.done {
            return None;
        }
        let buf = self.buf;
        let start = self.pos;
        let mut i = start;
        let end = loop {
            // Jump to the next character that matters outside quotes and brackets.
            let Some(off) = memchr::memchr3(b',', b'"', b'<', &buf[i..]) else {
                break buf.len();
            };
            i += off;
            match buf[i] {
                b',' => break i,
                b'"' => {
                    // Skip the quoted string, honouring quoted-pairs.
                    i += 1;
                    while i < buf.len() {
                        match buf[i] {
                            b'\\' => i += 2,
                            b'"' => break,
                            _ => i += 1,
                        }
                    }
                    i += 1;
                }
                _ => {
                    i = memchr::memchr(b'>', &buf[i..]).map_or(buf.len(), |o| i + o + 1);
                }
            }
            if i >= buf.len() {
                break buf.len();
            }
        };
        if end >= buf.len() {
            self.done = true;
        } else {
            self.pos = end + 1;
        }
        Some(trim_lws(buf, start..end.min(buf.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_escape_what_they_must() {
        let mut out = bytes::BytesMut::new();
        write_quoted(&mut out, b"a\"b\\c\x0ed\x7fe\r\nf\tg \xc3\xa9");
        assert_eq!(&out[..], b"\"a\\\"b\\\\c\\\x0ed\\\x7fe  f\tg \xc3\xa9\"");
        // What is written reads back as a quoted string, to the same text (but the line break).
        let mut c = Cursor::new(&out);
        let r = c.quoted_string().unwrap();
        assert_eq!(r, 0..out.len());
        assert_eq!(unquote(&out), b"a\"b\\c\x0ed\x7fe  f\tg \xc3\xa9");
    }

    #[test]
    fn classes() {
        assert!(is(b'a', TOKEN) && is(b'~', TOKEN) && is(b'%', TOKEN) && !is(b'@', TOKEN));
        assert!(is(b'"', WORD) && is(b'<', WORD) && !is(b' ', WORD));
        assert!(is(b';', USER_UNRESERVED) && !is(b'@', USER_UNRESERVED));
        assert!(is(0x80, TEXT) && !is(0x7f, TEXT) && !is(b' ', TEXT));
    }

    #[test]
    fn sws_crosses_folds_only() {
        let mut c = Cursor::new(b" \t\r\n  x");
        assert!(c.skip_sws());
        assert_eq!(c.peek(), Some(b'x'));
        let mut c = Cursor::new(b" \r\nx");
        c.skip_sws();
        assert_eq!(c.peek(), Some(b'\r'));
    }

    #[test]
    fn quoted_strings() {
        let mut c = Cursor::new(br#""a \"b\" \\" rest"#);
        let r = c.quoted_string().unwrap();
        assert_eq!(&c.buf[r.clone()], br#""a \"b\" \\""#);
        assert_eq!(unquote(&c.buf[r]), br#"a "b" \"#);
        assert!(Cursor::new(b"\"open").quoted_string().is_err());
        assert!(Cursor::new(b"\"a\\\r\"").quoted_string().is_err());
        // quoted-pair may carry NUL, BEL and DEL
        assert!(Cursor::new(b"\"\\\x00\\\x07\\\x7f\"").quoted_string().is_ok());
    }

    #[test]
    fn list_split_respects_quotes_and_brackets() {
        let v = br#""a, b" <sip:x?a,b>;p=1 , c,,d"#;
        let parts: Vec<&[u8]> = ListSplitter::new(v).map(|r| &v[r]).collect();
        assert_eq!(parts, vec![&br#""a, b" <sip:x?a,b>;p=1"#[..], b"c", b"", b"d"]);
    }

    #[test]
    fn escapes() {
        assert!(check_escaped(b"a%20b", UNRESERVED, true));
        assert!(!check_escaped(b"a%2", UNRESERVED, true));
        assert!(!check_escaped(b"a%", UNRESERVED, true));
        assert!(!check_escaped(b"", UNRESERVED, true));
        assert!(check_escaped(b"", UNRESERVED, false));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u32(b"0068"), Some(68));
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u32(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32(b""), None);
        assert_eq!(parse_u32(b"-1"), None);
        assert_eq!(parse_u32(b"1a"), None);
    }
}
