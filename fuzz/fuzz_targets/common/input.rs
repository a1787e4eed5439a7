//! Reading a fuzz input as a sequence of operation records (shared by the targets that
//! drive a state machine).

use bytes::Bytes;

/// The bytes not read yet.
pub struct Input<'a>(pub &'a [u8]);

impl Input<'_> {
    /// One byte.
    pub fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self) -> Option<u16> {
        Some(u16::from(self.u8()?) | (u16::from(self.u8()?) << 8))
    }

    /// A `u16` LE length, then that many bytes (fewer at the end of the input).
    pub fn bytes(&mut self) -> Option<Bytes> {
        let n = usize::from(self.u16()?).min(self.0.len());
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(Bytes::copy_from_slice(b))
    }
}
