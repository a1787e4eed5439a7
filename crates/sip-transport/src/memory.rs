//! An in-memory network for tests of the layers above: endpoints with socket addresses
//! exchange messages through a shared table instead of sockets. Messages are serialized
//! and parsed again on the way, as over a real datagram transport.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::BoxFuture;
use sip_message::ParseLimits;
use sip_message::header::Transport as TransportName;

use crate::{IncomingSender, Received, Sent, Source, Target, Transport, TransportError};

/// The shared table of endpoints.
#[derive(Debug, Clone, Default)]
pub struct MemoryNetwork {
    endpoints: Arc<Mutex<HashMap<(TransportName, SocketAddr), IncomingSender>>>,
}

impl MemoryNetwork {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    /// An endpoint at `addr` speaking `transport`; what is sent to it goes to `incoming`.
    /// A second endpoint at the same place replaces the first.
    pub fn endpoint(&self, transport: TransportName, addr: SocketAddr, incoming: IncomingSender) -> MemoryTransport {
        self.lock().insert((transport.clone(), addr), incoming);
        MemoryTransport { network: self.clone(), transport, local: addr }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(TransportName, SocketAddr), IncomingSender>> {
        self.endpoints.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One endpoint of a [`MemoryNetwork`].
#[derive(Debug)]
pub struct MemoryTransport {
    network: MemoryNetwork,
    transport: TransportName,
    local: SocketAddr,
}

impl Drop for MemoryTransport {
    fn drop(&mut self) {
        self.network.lock().remove(&(self.transport.clone(), self.local));
    }
}

impl Transport for MemoryTransport {
    fn send<'a>(&'a self, target: &'a Target, message: Bytes) -> BoxFuture<'a, Result<Sent, TransportError>> {
        Box::pin(async move {
            if target.transport != self.transport {
                return Err(TransportError::Unsupported(target.transport.clone()));
            }
            let peer = self.network.lock().get(&(target.transport.clone(), target.remote)).cloned();
            let peer = peer.ok_or(TransportError::Unreachable(target.remote))?;
            let sent =
                Sent { transport: self.transport.clone(), local: self.local, sent_by: self.local, connection: None };
            if message.iter().all(|&b| b == b'\r' || b == b'\n') {
                return Ok(sent);
            }
            let source = Source {
                transport: self.transport.clone(),
                local: target.remote,
                remote: self.local,
                connection: None,
            };
            let item = Received::from_bytes(message, &ParseLimits::default(), source);
            if !peer.deliver(item).await {
                return Err(TransportError::Unreachable(target.remote));
            }
            Ok(sent)
        })
    }

    fn prepare<'a>(&'a self, _target: &'a Target) -> BoxFuture<'a, Result<Sent, TransportError>> {
        Box::pin(async move {
            Ok(Sent { transport: self.transport.clone(), local: self.local, sent_by: self.local, connection: None })
        })
    }

    fn local_addrs(&self) -> Vec<(TransportName, SocketAddr)> {
        vec![(self.transport.clone(), self.local)]
    }
}
