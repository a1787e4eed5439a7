//! Multipart bodies (RFC 2046 §5.1): `multipart/mixed`, `/alternative`, `/related`,
//! `/signed` split into parts with their own headers, each a slice of the body.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::DecodeError;
use crate::header::MediaType;
use crate::headers::Headers;
use crate::limits::ParseLimits;
use crate::message::parse_header_section;

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The part's own header fields (Content-Type, Content-ID, ...).
    pub headers: Headers,
    /// The part's content.
    pub body: Bytes,
}

/// `boundary := 0*69<bchars> bcharsnospace` (RFC 2046).
fn valid_boundary(b: &[u8]) -> bool {
    let bchar = |c: u8| {
        c.is_ascii_alphanumeric()
            || matches!(c, b'\'' | b'(' | b')' | b'+' | b'_' | b',' | b'-' | b'.' | b'/' | b':' | b'=' | b'?' | b' ')
    };
    !b.is_empty() && b.len() <= 70 && b.iter().all(|&c| bchar(c)) && b.last() != Some(&b' ')
}

/// Splits `body` of type `content_type` into its parts.
pub(crate) fn parse(content_type: &MediaType, body: &Bytes, limits: &ParseLimits) -> Result<Vec<Part>, DecodeError> {
    let boundary = content_type.boundary().ok_or(DecodeError::new("multipart type without boundary", 0))?;
    if !valid_boundary(&boundary) {
        return Err(DecodeError::new("invalid multipart boundary", 0));
    }
    let mut delimiter = Vec::with_capacity(boundary.len() + 4);
    delimiter.extend_from_slice(b"\r\n--");
    delimiter.extend_from_slice(&boundary);
    let finder = memchr::memmem::Finder::new(&delimiter);

    // The first delimiter may open the body without a CRLF before it.
    let mut pos = if body.starts_with(&delimiter[2..]) {
        delimiter.len() - 2
    } else {
        finder
            .find(body)
            .map(|i| i + delimiter.len())
            .ok_or(DecodeError::new("multipart body without a delimiter", 0))?
    };
    let mut parts = Vec::new();
    loop {
        // After a delimiter: "--" closes, else transport padding then CRLF.
        if body[pos..].starts_with(b"--") {
            break;
        }
        while matches!(body.get(pos), Some(b' ' | b'\t')) {
            pos += 1;
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err(DecodeError::new("delimiter line not ended by CRLF", pos));
        }
        pos += 2;
        let end = finder
            .find(&body[pos..])
            .map(|i| pos + i)
            .ok_or(DecodeError::new("multipart body without a closing delimiter", pos))?;
        if parts.len() == limits.max_multipart_parts {
            return Err(DecodeError::new("too many multipart parts", pos));
        }
        let content = body.slice(pos..end);
        let (headers, body_start) = if content.starts_with(b"\r\n") {
            (Headers::new(), 2)
        } else {
            parse_header_section(&content, 0, limits)
                .map(|section| (section.headers, section.body_start))
                .map_err(|e| DecodeError::new("malformed part headers", pos + e.offset().unwrap_or(0)))?
        };
        parts.push(Part { headers, body: content.slice(body_start..) });
        pos = end + delimiter.len();
    }
    if parts.is_empty() {
        return Err(DecodeError::new("multipart body without parts", 0));
    }
    Ok(parts)
}

/// Writes `parts` as a multipart body with `boundary` (which must not occur in any part).
pub fn encode(boundary: &str, parts: &[Part]) -> Result<Bytes, DecodeError> {
    if !valid_boundary(boundary.as_bytes()) {
        return Err(DecodeError::new("invalid multipart boundary", 0));
    }
    let mut delimiter = b"\r\n--".to_vec();
    delimiter.extend_from_slice(boundary.as_bytes());
    let mut out = BytesMut::new();
    for p in parts {
        if memchr::memmem::find(&p.body, &delimiter).is_some() || p.body.starts_with(&delimiter[2..]) {
            return Err(DecodeError::new("boundary occurs inside a part", 0));
        }
        out.put_slice(b"--");
        out.put_slice(boundary.as_bytes());
        out.put_slice(b"\r\n");
        p.headers.encode(&mut out);
        out.put_slice(b"\r\n");
        out.put_slice(&p.body);
        out.put_slice(b"\r\n");
    }
    out.put_slice(b"--");
    out.put_slice(boundary.as_bytes());
    out.put_slice(b"--\r\n");
    Ok(out.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::{ContentType, TypedHeader};
    use crate::headers::Header;
    use crate::name::HeaderName;

    fn ct(s: &'static str) -> MediaType {
        ContentType::decode(&Bytes::from_static(s.as_bytes())).unwrap().0
    }

    #[test]
    fn splits_parts() {
        let body = Bytes::from_static(
            b"preamble\r\n--xyz\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n\r\n--xyz \r\n\r\n\x00\r\nbinary\n\r\n--xyz--\r\nepilogue",
        );
        let parts = parse(&ct("multipart/mixed;boundary=xyz"), &body, &ParseLimits::default()).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].body.as_ref(), b"v=0\r\n");
        assert_eq!(parts[0].headers.content_type().unwrap().unwrap().0, ("application", "sdp"));
        assert!(parts[1].headers.is_empty());
        assert_eq!(parts[1].body.as_ref(), b"\x00\r\nbinary\n");
    }

    #[test]
    fn malformed() {
        let limits = ParseLimits::default();
        let t = ct("multipart/mixed;boundary=xyz");
        for bad in [
            &b"no delimiter"[..],
            b"--xyz\r\nContent-Type: a/b\r\n\r\nunclosed",
            b"--xyz--\r\n",
            b"--xyzjunk\r\n\r\nx\r\n--xyz--",
        ] {
            assert!(parse(&t, &Bytes::copy_from_slice(bad), &limits).is_err(), "{bad:?}");
        }
        assert!(parse(&ct("multipart/mixed"), &Bytes::from_static(b"--x\r\n\r\n\r\n--x--"), &limits).is_err());
        let many = "--b\r\n\r\nx\r\n".repeat(40) + "--b--";
        let e = parse(&ct("multipart/mixed;boundary=b"), &Bytes::from(many), &limits);
        assert!(e.is_err());
    }

    #[test]
    fn round_trip() {
        let mut h = Headers::new();
        h.push(Header::new(HeaderName::CONTENT_TYPE, "text/plain").unwrap());
        let parts = vec![
            Part { headers: h, body: Bytes::from_static(b"Hello") },
            Part { headers: Headers::new(), body: Bytes::from_static(b"\x00\x01") },
        ];
        let body = encode("boundary42", &parts).unwrap();
        let back = parse(&ct("multipart/alternative;boundary=boundary42"), &body, &ParseLimits::default()).unwrap();
        assert_eq!(back, parts);
        assert!(encode("b", &[Part { headers: Headers::new(), body: Bytes::from_static(b"x\r\n--b") }]).is_err());
    }
}
