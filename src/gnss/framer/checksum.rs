//! The framers' checksums, and running sums that give the checksum of any
//! buffered range in constant time.
//!
//! Why running sums: a false sync byte in garbage makes the framer check a
//! candidate of up to 1029 (RTCM3) or 4104 (UBX) bytes, fail, and restart one
//! byte later. Checking each candidate byte by byte turns a stream of
//! repeated headers (`D3 03 FF …`) into ~1000 checksum bytes per input byte.
//! With one running sum per buffered byte, every candidate costs O(1), so the
//! framer's work is linear in the input whatever it contains.

/// CRC-24Q generator polynomial (with the x^24 term).
const CRC24Q_POLY: u32 = 0x0186_4CFB;
/// Longest range a CRC is asked for: an RTCM3 header and its largest payload.
const MAX_CRC_RANGE: usize = 3 + 1023;

/// UBX 8-bit Fletcher checksum over class, id, length and payload.
pub fn fletcher8(bytes: &[u8]) -> (u8, u8) {
    let (mut a, mut b) = (0u8, 0u8);
    for &x in bytes {
        a = a.wrapping_add(x);
        b = b.wrapping_add(a);
    }
    (a, b)
}

/// XOR of the characters between `$` and `*`.
pub fn nmea_checksum(body: &[u8]) -> u8 {
    body.iter().fold(0, |acc, &b| acc ^ b)
}

/// CRC-24Q (Qualcomm) as used by RTCM3: polynomial 0x1864CFB, initial value 0.
pub fn crc24q(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0, |r, &b| crc24q_step(r, b))
}

fn crc24q_step(reg: u32, byte: u8) -> u32 {
    let i = ((reg >> 16) as u8 ^ byte) as usize;
    ((reg << 8) & 0x00FF_FFFF) ^ CRC24Q_TABLE.get(i).copied().unwrap_or(0)
}

const CRC24Q_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 16;
        let mut k = 0;
        while k < 8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= CRC24Q_POLY;
            }
            k += 1;
        }
        t[i] = crc & 0x00FF_FFFF;
        i += 1;
    }
    t
};

/// `x^(8m) mod P` for m = 0..=MAX_CRC_RANGE: what feeding m zero bytes does
/// to a CRC register (multiply by this).
const CRC24Q_SHIFT: [u32; MAX_CRC_RANGE + 1] = {
    let mut t = [0u32; MAX_CRC_RANGE + 1];
    let mut v = 1u32;
    let mut m = 0;
    while m <= MAX_CRC_RANGE {
        t[m] = v;
        let mut k = 0;
        while k < 8 {
            v <<= 1;
            if v & 0x0100_0000 != 0 {
                v ^= CRC24Q_POLY;
            }
            k += 1;
        }
        m += 1;
    }
    t
};

/// Product of two CRC-24Q residues, mod P (GF(2) polynomials).
fn crc24q_mulmod(a: u32, b: u32) -> u32 {
    let mut acc = 0u32;
    for i in (0..24).rev() {
        acc <<= 1;
        if acc & 0x0100_0000 != 0 {
            acc ^= CRC24Q_POLY;
        }
        if (a >> i) & 1 != 0 {
            acc ^= b;
        }
    }
    acc
}

/// Running sums over a buffer: entry `k` summarises every stream byte before
/// `buf[k]`, so a range's checksum is a difference of two entries.
/// Kept in step with the framer's buffer (`append` on push, `consume` on drain).
#[derive(Debug)]
pub(super) struct RunningSums {
    /// Σ x mod 256.
    sum: Vec<u8>,
    /// Σ j·x_j mod 256, j the byte's offset in the stream.
    weighted: Vec<u8>,
    /// CRC-24Q register after the stream up to here.
    crc: Vec<u32>,
    /// Stream offset of the byte at entry 0.
    origin: u64,
}

impl Default for RunningSums {
    fn default() -> Self {
        Self {
            sum: vec![0],
            weighted: vec![0],
            crc: vec![0],
            origin: 0,
        }
    }
}

impl RunningSums {
    pub fn append(&mut self, bytes: &[u8]) {
        let last = self.sum.len() - 1;
        let (mut s, mut w, mut c) = (
            self.sum.get(last).copied().unwrap_or(0),
            self.weighted.get(last).copied().unwrap_or(0),
            self.crc.get(last).copied().unwrap_or(0),
        );
        let mut offset = self.origin.wrapping_add(last as u64);
        self.sum.reserve(bytes.len());
        self.weighted.reserve(bytes.len());
        self.crc.reserve(bytes.len());
        for &x in bytes {
            s = s.wrapping_add(x);
            w = w.wrapping_add((offset as u8).wrapping_mul(x));
            c = crc24q_step(c, x);
            offset = offset.wrapping_add(1);
            self.sum.push(s);
            self.weighted.push(w);
            self.crc.push(c);
        }
    }

    /// Forget the first `n` bytes (the framer drained them).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.sum.len() - 1);
        self.sum.drain(..n);
        self.weighted.drain(..n);
        self.crc.drain(..n);
        self.origin = self.origin.wrapping_add(n as u64);
    }

    /// [`fletcher8`] of buffer bytes `start..end`.
    pub fn fletcher8(&self, start: usize, end: usize) -> Option<(u8, u8)> {
        let a = self.sum.get(end)?.wrapping_sub(*self.sum.get(start)?);
        let w = self
            .weighted
            .get(end)?
            .wrapping_sub(*self.weighted.get(start)?);
        // Σ (end−j)·x_j = end·Σx_j − Σ j·x_j, offsets taken in the stream.
        let end_offset = self.origin.wrapping_add(end as u64) as u8;
        Some((a, end_offset.wrapping_mul(a).wrapping_sub(w)))
    }

    /// [`crc24q`] of buffer bytes `start..end` (at most 1026 bytes).
    pub fn crc24q(&self, start: usize, end: usize) -> Option<u32> {
        let shift = CRC24Q_SHIFT.get(end.checked_sub(start)?)?;
        // crc(A‖B) = crc(A)·x^(8|B|) ⊕ crc(B), so crc(B) falls out of two entries.
        Some(self.crc.get(end)? ^ crc24q_mulmod(*self.crc.get(start)?, *shift))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc24q_known_value() {
        // Check value of CRC-24Q over "123456789".
        assert_eq!(crc24q(b"123456789"), 0xCDE703);
    }

    fn bytes(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect()
    }

    #[test]
    fn ranges_match_direct_checksums_across_consumes() {
        let data = bytes(3000, 7);
        let mut sums = RunningSums::default();
        // The buffer the sums mirror: appended in chunks, half drained each time.
        let mut buf: Vec<u8> = Vec::new();
        for chunk in data.chunks(700) {
            sums.append(chunk);
            buf.extend_from_slice(chunk);
            let len = buf.len();
            for (s, e) in [(0, len), (1, len / 2), (len / 3, len), (5, 5), (7, 1033)] {
                if e < s || e > len {
                    continue;
                }
                let r = &buf[s..e];
                assert_eq!(sums.fletcher8(s, e), Some(fletcher8(r)), "{s}..{e}");
                let crc = (e - s <= MAX_CRC_RANGE).then(|| crc24q(r));
                assert_eq!(sums.crc24q(s, e), crc, "{s}..{e}");
            }
            let drop = len / 2;
            sums.consume(drop);
            buf.drain(..drop);
        }
    }

    #[test]
    fn out_of_range_is_none() {
        let mut sums = RunningSums::default();
        sums.append(&[1, 2, 3]);
        assert_eq!(sums.fletcher8(0, 4), None);
        assert_eq!(sums.crc24q(2, 1), None);
    }
}
