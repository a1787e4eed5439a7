//! The transports `sipkit` listens and sends on (`udp`, `tcp`, `tls`, `ws`, `wss`): their
//! names on the command line, the Contact that names a listener, and binding one.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use sip_message::Uri;
use sip_message::header::Transport as TransportName;
use sip_transport::IncomingSender;
use sip_transport::stream::StreamSettings;
use sip_transport::tcp::TcpTransport;
use sip_transport::tls::{TlsConfig, TlsTransport};
use sip_transport::udp::{UdpSettings, UdpTransport};
use sip_transport::ws::{WsTransport, WssTransport};

/// One of the transports `sipkit` works over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Udp,
    Tcp,
    Tls,
    Ws,
    Wss,
}

impl FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "udp" => Ok(Self::Udp),
            "tcp" => Ok(Self::Tcp),
            "tls" => Ok(Self::Tls),
            "ws" => Ok(Self::Ws),
            "wss" => Ok(Self::Wss),
            other => Err(format!("transport {other:?}: sipkit works over udp, tcp, tls, ws or wss")),
        }
    }
}

impl Transport {
    /// Its name in a Via and a target.
    pub(crate) fn name(self) -> TransportName {
        match self {
            Self::Udp => TransportName::UDP,
            Self::Tcp => TransportName::TCP,
            Self::Tls => TransportName::TLS,
            Self::Ws => TransportName::WS,
            Self::Wss => TransportName::WSS,
        }
    }

    /// The transport of `name` (UDP for one `sipkit` does not work over).
    pub(crate) fn of(name: &TransportName) -> Self {
        [Self::Tcp, Self::Tls, Self::Ws, Self::Wss].into_iter().find(|t| t.name() == *name).unwrap_or(Self::Udp)
    }

    /// Whether it runs over TLS (and needs a certificate to listen).
    pub(crate) fn secure(self) -> bool {
        matches!(self, Self::Tls | Self::Wss)
    }

    /// The Contact of `user` at a listener of this transport at `addr`: its `transport`
    /// parameter, and `sips` with `transport=ws` for secure WebSocket (RFC 7118 §5).
    pub(crate) fn contact(self, user: &str, addr: SocketAddr) -> Result<Uri, String> {
        let scheme = if self == Self::Wss { "sips" } else { "sip" };
        let param = match self {
            Self::Udp => "",
            Self::Tcp => ";transport=tcp",
            Self::Tls => ";transport=tls",
            Self::Ws | Self::Wss => ";transport=ws",
        };
        let host = match addr.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        format!("{scheme}:{user}@{host}:{}{param}", addr.port()).parse().map_err(|e| format!("the Contact URI: {e}"))
    }

    /// Binds this transport on `addr`, its messages going to `incoming`; `tls` gives the
    /// TLS side (a server certificate, or which servers to trust) of `tls` and `wss`.
    pub(crate) async fn bind(
        self,
        addr: SocketAddr,
        tls: Option<&TlsConfig>,
        incoming: IncomingSender,
    ) -> Result<Arc<dyn sip_transport::Transport>, String> {
        let settings = StreamSettings::default();
        let failed =
            |e: sip_transport::TransportError| format!("{}:{addr}: {e}", self.name().as_str().to_ascii_lowercase());
        let needs_tls = || format!("{} needs a TLS configuration", self.name().as_str().to_ascii_lowercase());
        Ok(match self {
            Self::Udp => Arc::new(UdpTransport::bind(addr, UdpSettings::default(), incoming).await.map_err(failed)?),
            Self::Tcp => Arc::new(TcpTransport::bind(addr, settings, incoming).await.map_err(failed)?),
            Self::Ws => Arc::new(WsTransport::bind(addr, settings, incoming).await.map_err(failed)?),
            Self::Tls => {
                let tls = tls.ok_or_else(needs_tls)?.clone();
                Arc::new(TlsTransport::bind(addr, tls, settings, incoming).await.map_err(failed)?)
            }
            Self::Wss => {
                let tls = tls.ok_or_else(needs_tls)?.clone();
                Arc::new(WssTransport::bind(addr, tls, settings, incoming).await.map_err(failed)?)
            }
        })
    }

    /// Where the bound transport listens (`addr` when it does not say).
    pub(crate) fn bound(transport: &dyn sip_transport::Transport, addr: SocketAddr) -> SocketAddr {
        transport.local_addrs().first().map_or(addr, |(_, a)| *a)
    }
}
