//! Headers with text values: Call-ID, Subject, Organization, Server, User-Agent, Priority,
//! Date, Warning, In-Reply-To.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};

use super::{TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex::{self, Cursor};
use crate::name::HeaderName;
use crate::uri::scan_host;

/// `callid = word [ "@" word ]`.
fn scan_callid(c: &mut Cursor<'_>) -> Result<std::ops::Range<usize>, DecodeError> {
    let start = c.pos;
    if c.take_while(lex::WORD).is_empty() {
        return Err(c.error("Call-ID must be word [\"@\" word]"));
    }
    if c.eat(b'@') && c.take_while(lex::WORD).is_empty() {
        return Err(c.error("Call-ID must be word [\"@\" word]"));
    }
    Ok(start..c.pos)
}

/// `Call-ID` (§20.8): the identifier of a call or registration. Compared byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallId(pub Bytes);

impl CallId {
    /// A Call-ID from text that must be `word [ "@" word ]`.
    pub fn new(id: impl Into<Bytes>) -> Result<Self, DecodeError> {
        Self::decode(&id.into())
    }
}

impl TypedHeader for CallId {
    const NAME: HeaderName = HeaderName::CALL_ID;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| scan_callid(c).map(|r| Self(value.slice(r))))
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.0);
    }
}

/// `In-Reply-To` (§20.21): one Call-ID this call answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InReplyTo(pub Bytes);

impl TypedHeader for InReplyTo {
    const NAME: HeaderName = HeaderName::IN_REPLY_TO;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| scan_callid(c).map(|r| Self(value.slice(r))))
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.0);
    }
}

/// Checks `TEXT-UTF8-TRIM` (possibly empty): valid UTF-8 without control characters, LWS
/// (with folds) allowed between words.
pub(crate) fn check_text(value: &[u8]) -> Result<(), DecodeError> {
    if std::str::from_utf8(value).is_err() {
        return Err(DecodeError::new("text is not valid UTF-8", 0));
    }
    // Runs of text and blanks, eight bytes a step; a line break is allowed only in a fold.
    let mut i = 0;
    loop {
        i = lex::skip_class(value, i, lex::TEXT | lex::WSP);
        if i == value.len() {
            return Ok(());
        }
        let after_fold = lex::skip_sws(value, i);
        if after_fold == i {
            return Err(DecodeError::new("control character in text", i));
        }
        i = after_fold;
    }
}

macro_rules! text_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty(pub Bytes);

        impl TypedHeader for $ty {
            const NAME: HeaderName = HeaderName::$name;

            fn decode(value: &Bytes) -> Result<Self, DecodeError> {
                check_text(value)?;
                Ok(Self(value.clone()))
            }

            fn encode(&self, out: &mut BytesMut) {
                out.put_slice(&self.0);
            }
        }
    };
}

text_header!(
    /// `Subject` (§20.36): a summary of the call; may be empty.
    Subject, SUBJECT
);
text_header!(
    /// `Organization` (§20.25): the organization of the sender; may be empty.
    Organization, ORGANIZATION
);

/// `server-val *(LWS server-val)`, `server-val = product / comment`.
fn check_products(value: &Bytes) -> Result<(), DecodeError> {
    decode_all(value, |c| {
        let mut n = 0;
        loop {
            if c.peek() == Some(b'(') {
                c.comment()?;
            } else {
                c.expect_token("expected a product token or a comment")?;
                if c.eat_sep(b'/') {
                    c.expect_token("expected a product version")?;
                }
            }
            n += 1;
            let save = c.pos;
            if !c.skip_sws() || c.at_end() {
                c.pos = save;
                break;
            }
        }
        debug_assert!(n > 0);
        Ok(())
    })
}

/// `Server` (§20.35): the software of the UAS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server(pub Bytes);

/// `User-Agent` (§20.41): the software of the UAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(pub Bytes);

impl TypedHeader for Server {
    const NAME: HeaderName = HeaderName::SERVER;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        check_products(value).map(|()| Self(value.clone()))
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.0);
    }
}

impl TypedHeader for UserAgent {
    const NAME: HeaderName = HeaderName::USER_AGENT;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        check_products(value).map(|()| Self(value.clone()))
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.0);
    }
}

/// `Priority` (§20.26): `emergency`, `urgent`, `normal`, `non-urgent` or another token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priority(pub Bytes);

impl TypedHeader for Priority {
    const NAME: HeaderName = HeaderName::PRIORITY;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let r = c.expect_token("Priority must be a token")?;
            Ok(Self(value.slice(r)))
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(&self.0);
    }
}

/// `Date` (§20.17): an RFC 1123 date, always in GMT (`Sat, 13 Nov 2010 23:29:00 GMT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute, 0–59.
    pub minute: u8,
    /// Second, 0–60 (a leap second).
    pub second: u8,
}

const WEEKDAYS: [&[u8]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const MONTHS: [&[u8]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Date {
    /// The instant this date names.
    pub fn to_system_time(&self) -> SystemTime {
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        let secs = days * 86_400 + i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        match u64::try_from(secs) {
            Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
            Err(_) => UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs()),
        }
    }

    /// The date of an instant (after 1970), truncated to the second.
    pub fn from_system_time(t: SystemTime) -> Self {
        let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        let rem = secs % 86_400;
        // civil_from_days
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Self { year, month, day, hour: (rem / 3600) as u8, minute: (rem % 3600 / 60) as u8, second: (rem % 60) as u8 }
    }

    fn weekday(&self) -> &'static [u8] {
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        WEEKDAYS[days.rem_euclid(7) as usize]
    }
}

fn two_digits(s: &[u8]) -> Option<u8> {
    if s.len() == 2 && lex::is_digits(s) { Some((s[0] - b'0') * 10 + (s[1] - b'0')) } else { None }
}

impl TypedHeader for Date {
    const NAME: HeaderName = HeaderName::DATE;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        // rfc1123-date = wkday "," SP date1 SP time SP "GMT"
        let v = &value[..];
        let bad = |reason, at| Err(DecodeError::new(reason, at));
        if v.len() != 29 || &v[3..5] != b", " || v[7] != b' ' || v[11] != b' ' || v[16] != b' ' || v[25] != b' ' {
            return bad("Date must be an RFC 1123 date", 0);
        }
        let Some(wd) = WEEKDAYS.iter().position(|w| *w == &v[0..3]) else {
            return bad("invalid weekday", 0);
        };
        let Some(month) = MONTHS.iter().position(|m| *m == &v[8..11]) else {
            return bad("invalid month", 8);
        };
        if &v[26..29] != b"GMT" {
            return bad("Date must be in GMT", 26);
        }
        let (Some(day), Some(hour), Some(minute), Some(second)) =
            (two_digits(&v[5..7]), two_digits(&v[17..19]), two_digits(&v[20..22]), two_digits(&v[23..25]))
        else {
            return bad("invalid date or time digits", 5);
        };
        if v[19] != b':' || v[22] != b':' {
            return bad("invalid time", 17);
        }
        let Some(year) = lex::parse_u32(&v[12..16]).filter(|_| lex::is_digits(&v[12..16])) else {
            return bad("invalid year", 12);
        };
        let d = Self { year: year as u16, month: month as u8 + 1, day, hour, minute, second };
        if day == 0 || day > 31 || hour > 23 || minute > 59 || second > 60 {
            return bad("date or time out of range", 5);
        }
        if d.weekday() != WEEKDAYS[wd] {
            return bad("weekday does not match the date", 0);
        }
        Ok(d)
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(self.weekday());
        out.put_slice(b", ");
        out.put_slice(format!("{:02} ", self.day).as_bytes());
        out.put_slice(MONTHS[usize::from(self.month.clamp(1, 12) - 1)]);
        out.put_slice(
            format!(" {:04} {:02}:{:02}:{:02} GMT", self.year, self.hour, self.minute, self.second).as_bytes(),
        );
    }
}

/// `Warning` (§20.43): a three-digit code, the agent that added it, and a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The warn-code (300–399 in RFC 3261's registry).
    pub code: u16,
    /// The warn-agent: a `host[:port]` or a pseudonym, as written.
    pub agent: Bytes,
    /// The warn-text as written, with its quotes.
    pub text: Bytes,
}

impl TypedHeader for Warning {
    const NAME: HeaderName = HeaderName::WARNING;

    fn decode(value: &Bytes) -> Result<Self, DecodeError> {
        decode_all(value, |c| {
            let code_r = c.take_while(lex::DIGIT);
            if code_r.len() != 3 {
                return Err(DecodeError::new("warn-code must be three digits", code_r.start));
            }
            let code = lex::parse_u32(&value[code_r]).unwrap_or(0) as u16;
            if !c.eat(b' ') {
                return Err(c.error("expected SP after the warn-code"));
            }
            let agent_start = c.pos;
            let save = c.pos;
            // hostport / pseudonym
            let host_ok =
                scan_host(c).is_ok() && { if c.eat(b':') { !c.take_while(lex::DIGIT).is_empty() } else { true } };
            if !host_ok || c.peek() != Some(b' ') {
                c.pos = save;
                c.expect_token("invalid warn-agent")?;
            }
            let agent = value.slice(agent_start..c.pos);
            if !c.eat(b' ') {
                return Err(c.error("expected SP after the warn-agent"));
            }
            let text = c.quoted_string()?;
            Ok(Self { code, agent, text: value.slice(text) })
        })
    }

    fn encode(&self, out: &mut BytesMut) {
        out.put_slice(format!("{:03} ", self.code).as_bytes());
        out.put_slice(&self.agent);
        out.put_u8(b' ');
        out.put_slice(&self.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn call_id() {
        assert!(CallId::decode(&b("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")).is_ok());
        assert!(CallId::decode(&b("a@b@c")).is_err());
        assert!(CallId::decode(&b("a b")).is_err());
        assert!(CallId::decode(&b("")).is_err());
        assert!(CallId::new("f81d4fae-7dec-11d0-a765-00a0c91e6bf6@foo.bar.com").is_ok());
    }

    #[test]
    fn dates() {
        let d = Date::decode(&b("Sat, 13 Nov 2010 23:29:00 GMT")).unwrap();
        assert_eq!((d.year, d.month, d.day, d.hour), (2010, 11, 13, 23));
        assert_eq!(d.to_bytes().as_ref(), b"Sat, 13 Nov 2010 23:29:00 GMT");
        assert_eq!(Date::from_system_time(d.to_system_time()), d);
        assert!(Date::decode(&b("Fri, 01 Jan 2010 16:00:00 EST")).is_err());
        assert!(Date::decode(&b("Thu, 01 Jan 2010 16:00:00 GMT")).is_err());
        assert!(Date::decode(&b("Fri, 01 Jan 2010 16:00:00 GMT")).is_ok());
        assert!(Date::decode(&b("Fri, 01 Foo 2010 16:00:00 GMT")).is_err());
        assert!(Date::decode(&b("Fri, 01 Jan 2010 24:00:00 GMT")).is_err());
    }

    #[test]
    fn warning() {
        let w = Warning::decode(&b("307 isi.edu \"Session parameter 'foo' not understood\"")).unwrap();
        assert_eq!((w.code, w.agent.as_ref()), (307, &b"isi.edu"[..]));
        let w = Warning::decode(&b("399 [2001:db8::1]:5060 \"x\"")).unwrap();
        assert_eq!(w.agent.as_ref(), b"[2001:db8::1]:5060");
        assert!(Warning::decode(&b("1812 overture \"In Progress\"")).is_err());
        assert!(Warning::decode(&b("399 host unquoted")).is_err());
    }

    #[test]
    fn products_and_text() {
        assert!(UserAgent::decode(&b("Softphone/Beta1.5 (linux) libfoo/2")).is_ok());
        assert!(Server::decode(&b("HomeServer v2")).is_ok());
        assert!(Server::decode(&b("a/")).is_err());
        assert!(Subject::decode(&b("")).is_ok());
        assert!(Subject::decode(&b("Need more boxes\r\n  now")).is_ok());
        assert!(Subject::decode(&Bytes::from_static(b"bad \x01")).is_err());
        assert!(Subject::decode(&Bytes::from_static(b"bad \xff")).is_err());
        // Blanks and folds anywhere between text; a control character or a line break
        // that is no fold is refused where it stands.
        for ok in ["a\tb  c", "long enough to take eight bytes at a time\r\n\tand a fold", "caf\u{e9} \u{2603}"] {
            assert!(check_text(ok.as_bytes()).is_ok(), "{ok:?}");
        }
        for (bad, at) in [("a\r\nb", 1), ("eight by\x7f", 8), ("abcdefghijkl\r", 12), ("\x00", 0), ("x\n y", 1)] {
            assert_eq!(check_text(bad.as_bytes()).unwrap_err().offset(), at, "{bad:?}");
        }
        assert!(Priority::decode(&b("non-urgent")).is_ok());
    }
}
