//! Serialization: the lines of RFC 8866 §5 in their order, each ended by CRLF.

use bytes::{BufMut, BytesMut};

use crate::model::{Attribute, Bandwidth, Connection, Line, Media, SessionDescription};
use crate::text::Decimal;

fn line(out: &mut BytesMut, kind: u8, parts: &[&[u8]]) {
    out.put_u8(kind);
    out.put_u8(b'=');
    for p in parts {
        out.put_slice(p);
    }
    out.put_slice(b"\r\n");
}

fn number(n: u64) -> Decimal {
    Decimal::new(n)
}

fn connection(out: &mut BytesMut, c: &Connection) {
    let ttl = c.ttl.map(|t| number(u64::from(t)));
    let count = c.count.map(|n| number(u64::from(n)));
    let mut parts: Vec<&[u8]> = vec![c.net_type.as_bytes(), b" ", c.addr_type.as_bytes(), b" ", c.address.as_bytes()];
    if let Some(t) = &ttl {
        parts.push(b"/");
        parts.push(t.as_bytes());
    }
    if let Some(n) = &count {
        parts.push(b"/");
        parts.push(n.as_bytes());
    }
    line(out, b'c', &parts);
}

fn bandwidth(out: &mut BytesMut, b: &Bandwidth) {
    line(out, b'b', &[b.kind.as_bytes(), b":", number(b.value).as_bytes()]);
}

fn attribute(out: &mut BytesMut, a: &Attribute) {
    match &a.value {
        Some(v) => line(out, b'a', &[a.name.as_bytes(), b":", v.as_bytes()]),
        None => line(out, b'a', &[a.name.as_bytes()]),
    }
}

fn extra(out: &mut BytesMut, l: &Line) {
    line(out, l.kind_byte(), &[l.value().as_bytes()]);
}

fn media(out: &mut BytesMut, m: &Media) {
    out.put_slice(b"m=");
    out.put_slice(m.kind.as_bytes());
    out.put_u8(b' ');
    out.put_slice(number(u64::from(m.port)).as_bytes());
    if let Some(n) = m.port_count {
        out.put_u8(b'/');
        out.put_slice(number(u64::from(n)).as_bytes());
    }
    out.put_u8(b' ');
    out.put_slice(m.proto.as_bytes());
    for f in &m.formats {
        out.put_u8(b' ');
        out.put_slice(f.as_bytes());
    }
    out.put_slice(b"\r\n");
    if let Some(i) = &m.information {
        line(out, b'i', &[i.as_bytes()]);
    }
    for c in &m.connections {
        connection(out, c);
    }
    for b in &m.bandwidths {
        bandwidth(out, b);
    }
    if let Some(k) = &m.key {
        line(out, b'k', &[k.as_bytes()]);
    }
    for a in &m.attributes {
        attribute(out, a);
    }
    for l in &m.extra_lines {
        extra(out, l);
    }
}

/// Writes `sd`.
pub(crate) fn write(out: &mut BytesMut, sd: &SessionDescription) {
    out.put_slice(b"v=0\r\n");
    let o = &sd.origin;
    let version = number(o.session_version);
    line(
        out,
        b'o',
        &[
            o.username.as_bytes(),
            b" ",
            o.session_id.as_bytes(),
            b" ",
            version.as_bytes(),
            b" ",
            o.net_type.as_bytes(),
            b" ",
            o.addr_type.as_bytes(),
            b" ",
            o.address.as_bytes(),
        ],
    );
    line(out, b's', &[sd.session_name.as_bytes()]);
    for (kind, v) in [(b'i', &sd.information), (b'u', &sd.uri)] {
        if let Some(v) = v {
            line(out, kind, &[v.as_bytes()]);
        }
    }
    for e in &sd.emails {
        line(out, b'e', &[e.as_bytes()]);
    }
    for p in &sd.phones {
        line(out, b'p', &[p.as_bytes()]);
    }
    if let Some(c) = &sd.connection {
        connection(out, c);
    }
    for b in &sd.bandwidths {
        bandwidth(out, b);
    }
    if sd.timing.is_empty() {
        out.put_slice(b"t=0 0\r\n");
    }
    for t in &sd.timing {
        line(out, b't', &[number(t.start).as_bytes(), b" ", number(t.stop).as_bytes()]);
        for r in &t.repeats {
            line(out, b'r', &[r.as_bytes()]);
        }
    }
    if let Some(z) = &sd.time_zones {
        line(out, b'z', &[z.as_bytes()]);
    }
    if let Some(k) = &sd.key {
        line(out, b'k', &[k.as_bytes()]);
    }
    for a in &sd.attributes {
        attribute(out, a);
    }
    for l in &sd.extra_lines {
        extra(out, l);
    }
    for m in &sd.media {
        media(out, m);
    }
}
