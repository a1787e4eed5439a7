//! Headers that point at more information: Alert-Info, Call-Info, Error-Info
//! (`LAQUOT absoluteURI RAQUOT *( SEMI generic-param )`).

use bytes::{BufMut, Bytes, BytesMut};

use super::params::scan_params;
use super::{Params, TypedHeader, decode_all};
use crate::error::DecodeError;
use crate::lex::{Cursor, Span};
use crate::name::HeaderName;
use crate::uri::{Uri, UriContext, scan_uri};

/// Scans `LAQUOT absoluteURI RAQUOT *( SEMI generic-param )`.
pub(crate) fn scan_bracketed_uri(c: &mut Cursor<'_>, src: &Bytes) -> Result<(Uri, Span), DecodeError> {
    if !c.eat(b'<') {
        return Err(c.error("expected '<'"));
    }
    let (uri, end) = scan_uri(src, c.pos, src.len(), UriContext::Bracketed)?;
    if src.get(end) != Some(&b'>') {
        return Err(DecodeError::new("expected '>' after the URI", end));
    }
    c.pos = end + 1;
    let params = scan_params(c)?;
    Ok((uri, params))
}

macro_rules! info_header {
    ($(#[$doc:meta])* $ty:ident, $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $ty {
            text: Bytes,
            uri: Uri,
            params: Span,
        }

        impl $ty {
            /// `<uri>` without parameters.
            pub fn new(uri: Uri) -> Self {
                let mut out = BytesMut::with_capacity(uri.as_bytes().len() + 2);
                out.put_u8(b'<');
                uri.encode(&mut out);
                out.put_u8(b'>');
                let len = out.len();
                Self { text: out.freeze(), uri, params: Span::of(len..len) }
            }

            /// The URI.
            pub fn uri(&self) -> &Uri {
                &self.uri
            }

            /// The parameters.
            pub fn params(&self) -> Params<'_> {
                Params::new(self.params.of_text(&self.text))
            }
        }

        impl TypedHeader for $ty {
            const NAME: HeaderName = HeaderName::$name;

            fn decode(value: &Bytes) -> Result<Self, DecodeError> {
                decode_all(value, |c| scan_bracketed_uri(c, value)).map(|(uri, params)| Self {
                    text: value.clone(),
                    uri,
                    params,
                })
            }

            fn encode(&self, out: &mut BytesMut) {
                out.put_slice(&self.text);
            }
        }
    };
}

info_header!(
    /// `Alert-Info` (§20.4): an alternative ring tone.
    AlertInfo, ALERT_INFO
);
info_header!(
    /// `Call-Info` (§20.9): more about the caller or callee (`purpose=icon|info|card`).
    CallInfo, CALL_INFO
);
info_header!(
    /// `Error-Info` (§20.18): a pointer to more about an error response.
    ErrorInfo, ERROR_INFO
);
info_header!(
    /// `Identity-Info` (RFC 4474): where to fetch the certificate for `Identity`.
    IdentityInfo, IDENTITY_INFO
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info() {
        let c =
            CallInfo::decode(&Bytes::from_static(b"<http://wwww.example.com/alice/photo.jpg> ;purpose=icon")).unwrap();
        assert_eq!(c.params().get("purpose").unwrap().token(), Some("icon"));
        let a = AlertInfo::new("http://www.example.com/sounds/moo.wav".parse().unwrap());
        assert_eq!(AlertInfo::decode(&a.to_bytes()).unwrap(), a);
        assert!(AlertInfo::decode(&Bytes::from_static(b"http://www.example.com/sounds/moo.wav")).is_err());
        assert!(ErrorInfo::decode(&Bytes::from_static(b"<sip:not-in-service-recording@atlanta.com>")).is_ok());
    }
}
