//! pcapng: sections (either byte order), interfaces with their link types, snap lengths and
//! timestamp resolutions and offsets, and the packet blocks (enhanced, simple, obsolete). A
//! child of the pcap module: it reads through the same buffer and returns the same [`Found`].

use std::io::Read;

use super::*;

/// pcapng block types the reader interprets.
pub(super) const NG_IDB: u32 = 1;
pub(super) const NG_PB: u32 = 2;
pub(super) const NG_SPB: u32 = 3;
pub(super) const NG_EPB: u32 = 6;

/// What the reader knows about one pcapng interface.
#[derive(Clone, Copy, Debug)]
pub(super) struct Interface {
    link: u32,
    snaplen: u32,
    resolution: Resolution,
    /// `if_tsoffset`: seconds to add to every timestamp.
    offset: i64,
}

impl<R: Read> CaptureReader<R> {
    pub(super) fn next_pcapng(&mut self) -> Result<Option<Found>, CaptureError> {
        loop {
            let at = self.offset;
            if !self.fill(12)? {
                // Every block is at least 12 bytes; fewer left is a cut-off file unless none.
                return if self.available() == 0 {
                    Ok(None)
                } else {
                    Err(CaptureError::Truncated { offset: at })
                };
            }
            let corrupt = |what| CaptureError::Corrupt { offset: at, what };
            let h = self.peek();
            let kind_be = Order::Big.u32(h, 0);
            if kind_be == NG_SHB {
                let order = match Order::Big.u32(h, 8) {
                    NG_BYTE_ORDER => Order::Big,
                    m if m.swap_bytes() == NG_BYTE_ORDER => Order::Little,
                    _ => return Err(corrupt("pcapng section header: byte-order magic")),
                };
                self.format = Format::PcapNg {
                    order,
                    interfaces: Vec::new(),
                };
            }
            let Format::PcapNg { order, .. } = self.format else {
                return Err(corrupt("pcapng block"));
            };
            let h = self.peek();
            let kind = order.u32(h, 0);
            let len32 = order.u32(h, 4);
            if len32 % 4 != 0 {
                return Err(corrupt("pcapng block: block length not a multiple of 4"));
            }
            if len32 < 12 || (kind == NG_SHB && len32 < 28) {
                return Err(corrupt("pcapng block: block length too small"));
            }
            let len = len32 as usize;
            // The section header's byte order was all it had to say (its options may be long).
            if !matches!(kind, NG_IDB | NG_PB | NG_SPB | NG_EPB) {
                self.skip_block(len32, order, at)?;
                continue;
            }
            if len > MAX_BLOCK {
                return Err(corrupt("pcapng block: block too large"));
            }
            if !self.fill(len)? {
                return Err(CaptureError::Truncated { offset: at });
            }
            let start = self.pos;
            let block = self.buf.get(start..start + len).unwrap_or(&[]);
            if order.u32(block, len - 4) != len32 {
                return Err(corrupt("pcapng block: trailing length mismatch"));
            }
            // Body without the type, length and trailing length.
            let body = block.get(8..len - 4).unwrap_or(&[]);
            let found = match kind {
                NG_IDB => {
                    let iface = parse_idb(body, order)
                        .ok_or(corrupt("pcapng interface block: too short"))?;
                    let Format::PcapNg { interfaces, .. } = &mut self.format else {
                        return Err(corrupt("pcapng block"));
                    };
                    if interfaces.len() >= MAX_INTERFACES {
                        return Err(corrupt("pcapng interface block: too many interfaces"));
                    }
                    interfaces.push(iface);
                    None
                }
                _ => Some(self.packet_block(kind, body, order, start + 8, at)?),
            };
            self.consume(len);
            if let Some(found) = found {
                return Ok(Some(found));
            }
        }
    }

    /// Interprets an EPB, SPB or obsolete PB whose body starts at `buf[body_start]`.
    fn packet_block(
        &self,
        kind: u32,
        body: &[u8],
        order: Order,
        body_start: usize,
        at: u64,
    ) -> Result<Found, CaptureError> {
        let corrupt = |what| CaptureError::Corrupt { offset: at, what };
        let Format::PcapNg { interfaces, .. } = &self.format else {
            return Err(corrupt("pcapng block"));
        };
        let interface = |id: usize| {
            interfaces
                .get(id)
                .copied()
                .ok_or(corrupt("pcapng packet block: unknown interface"))
        };
        if kind == NG_SPB {
            if body.len() < 4 {
                return Err(corrupt("pcapng simple packet block: too short"));
            }
            let iface = interface(0)?;
            let orig_len = order.u32(body, 0);
            let mut caplen = (orig_len as usize).min(body.len() - 4);
            if iface.snaplen != 0 {
                caplen = caplen.min(iface.snaplen as usize);
            }
            return Ok(Found {
                start: body_start + 4,
                len: caplen,
                ts_sec: 0,
                ts_nsec: 0,
                link: iface.link,
                orig_len,
            });
        }
        // EPB: if_id u32; PB: if_id u16 + drops u16. Then ts_hi, ts_lo, caplen, origlen.
        if body.len() < 20 {
            return Err(corrupt("pcapng packet block: too short"));
        }
        let id = if kind == NG_EPB {
            order.u32(body, 0) as usize
        } else {
            usize::from(order.u16(body, 0))
        };
        let iface = interface(id)?;
        let ts = (u64::from(order.u32(body, 4)) << 32) | u64::from(order.u32(body, 8));
        let caplen = order.u32(body, 12) as usize;
        let orig_len = order.u32(body, 16);
        if caplen > body.len() - 20 {
            return Err(corrupt(
                "pcapng packet block: captured length exceeds block",
            ));
        }
        let (sec, nsec) = iface.resolution.split(ts);
        Ok(Found {
            start: body_start + 20,
            len: caplen,
            ts_sec: sec.saturating_add(iface.offset),
            ts_nsec: nsec,
            link: iface.link,
            orig_len,
        })
    }

    /// Streams over a block the reader does not interpret, checking its trailing length.
    fn skip_block(&mut self, len: u32, order: Order, at: u64) -> Result<(), CaptureError> {
        let mut left = u64::from(len) - 4;
        while left > 0 {
            if self.available() == 0 {
                self.pos = 0;
                self.end = 0;
                if !self.fill(1)? {
                    return Err(CaptureError::Truncated { offset: at });
                }
            }
            let n = (self.available() as u64).min(left) as usize;
            self.consume(n);
            left -= n as u64;
        }
        if !self.fill(4)? {
            return Err(CaptureError::Truncated { offset: at });
        }
        if order.u32(self.peek(), 0) != len {
            return Err(CaptureError::Corrupt {
                offset: at,
                what: "pcapng block: trailing length mismatch",
            });
        }
        self.consume(4);
        Ok(())
    }
}

/// An Interface Description Block body: link type, snap length, and the options that change
/// how timestamps read. `None` when too short.
fn parse_idb(body: &[u8], order: Order) -> Option<Interface> {
    if body.len() < 8 {
        return None;
    }
    let mut iface = Interface {
        link: u32::from(order.u16(body, 0)),
        snaplen: order.u32(body, 4),
        resolution: Resolution::Decimal(6),
        offset: 0,
    };
    let mut at = 8;
    // Options: code u16, length u16, value padded to 4. A malformed option list only loses
    // the options, not the interface: the packets are still readable.
    while at + 4 <= body.len() {
        let code = order.u16(body, at);
        let len = usize::from(order.u16(body, at + 2));
        let value = body.get(at + 4..at + 4 + len);
        match (code, value) {
            (0, _) | (_, None) => break,
            (9, Some(v)) if len == 1 => {
                let r = byte(v, 0);
                iface.resolution = if r & 0x80 == 0 {
                    Resolution::Decimal(r)
                } else {
                    Resolution::Binary(r & 0x7f)
                };
            }
            (14, Some(v)) if len == 8 => iface.offset = order.u64(v, 0) as i64,
            _ => {}
        }
        at += 4 + len.div_ceil(4) * 4;
    }
    Some(iface)
}
