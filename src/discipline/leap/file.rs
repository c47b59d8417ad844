//! The IETF/NIST `leap-seconds.list` format.
//!
//! Lines: `#$ <ntp>` last update, `#@ <ntp>` expiry, `#h <5 hex words>` SHA-1
//! of the data, data lines `<ntp> <TAI−UTC> [# comment]`, other `#` lines are
//! comments. NTP seconds count from 1900-01-01.
//!
//! The hash, as the file itself defines it, is SHA-1 over the text of the `#$`
//! and `#@` values and of every data line up to its `#`, in file order, with all
//! whitespace removed. The `#h` line gives the digest as five 32-bit words in
//! hex, leading zeros possibly omitted. A file whose hash does not verify is
//! rejected as a whole.

use sha1::{Digest, Sha1};

use crate::time::{civil_from_days, NS_PER_SEC, SECS_PER_DAY};

use super::PendingLeap;

/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
pub const NTP_UNIX_OFFSET_S: i64 = 2_208_988_800;

/// Files larger than this are not leap-second lists.
pub const MAX_FILE_BYTES: usize = 256 * 1024;

/// TAI − UTC from `start_utc_ns` on (until the next entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct LeapEntry {
    /// POSIX UTC ns of 00:00:00 on the first day with this offset.
    pub start_utc_ns: i64,
    pub tai_utc: i32,
}

/// A parsed, hash-verified leap-seconds list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LeapSecondsList {
    /// Oldest first.
    pub entries: Vec<LeapEntry>,
    pub updated_utc_ns: i64,
    pub expires_utc_ns: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeapFileError {
    #[error("file larger than {MAX_FILE_BYTES} bytes")]
    TooLarge,
    #[error("line {line}: cannot parse {what}")]
    BadLine { line: usize, what: &'static str },
    #[error("no '#$' (last update) line")]
    MissingUpdate,
    #[error("no '#@' (expiry) line")]
    MissingExpiry,
    #[error("no '#h' (hash) line")]
    MissingHash,
    #[error("more than one '{0}' line")]
    Duplicate(&'static str),
    #[error("hash mismatch: file says {expected}, data hashes to {computed}")]
    HashMismatch { expected: String, computed: String },
    #[error("no data lines")]
    Empty,
    #[error("line {line}: entries must be in increasing time order")]
    NotIncreasing { line: usize },
    #[error("line {line}: entry does not start at 00:00:00 on the first day of a month")]
    NotMonthStart { line: usize },
    #[error("line {line}: TAI-UTC changes by {delta} s; only +-1 is a leap second")]
    BadStep { line: usize, delta: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum LeapFileLoadError {
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: std::path::PathBuf,
        source: LeapFileError,
    },
}

/// Shell helper: read (at most [`MAX_FILE_BYTES`] + 1 bytes) and parse a file.
pub fn load(path: &std::path::Path) -> Result<LeapSecondsList, LeapFileLoadError> {
    use std::io::Read;
    let io = |source| LeapFileLoadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(io)?;
    let mut buf = Vec::new();
    f.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    let parse_err = |source| LeapFileLoadError::Parse {
        path: path.to_path_buf(),
        source,
    };
    if buf.len() > MAX_FILE_BYTES {
        return Err(parse_err(LeapFileError::TooLarge));
    }
    let text = String::from_utf8_lossy(&buf);
    parse(&text).map_err(parse_err)
}

/// The SHA-1 of a file's data as the format defines it (see module docs).
pub fn data_hash(text: &str) -> [u32; 5] {
    let mut h = Sha1::new();
    for line in text.lines() {
        let hashed = if let Some(rest) = line.strip_prefix("#$").or_else(|| line.strip_prefix("#@"))
        {
            rest
        } else if line.starts_with('#') {
            continue;
        } else {
            line.split('#').next().unwrap_or("")
        };
        let compact: String = hashed.chars().filter(|c| !c.is_whitespace()).collect();
        h.update(compact.as_bytes());
    }
    let d = h.finalize();
    let mut words = [0u32; 5];
    for (w, chunk) in words.iter_mut().zip(d.chunks_exact(4)) {
        *w = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    words
}

/// The `#h` line for `text` (tests and tools use it to build files).
pub fn hash_line(words: &[u32; 5]) -> String {
    let w: Vec<String> = words.iter().map(|w| format!("{w:x}")).collect();
    format!("#h\t{}", w.join(" "))
}

fn ntp_to_utc_ns(ntp_s: i64) -> Option<i64> {
    ntp_s
        .checked_sub(NTP_UNIX_OFFSET_S)?
        .checked_mul(NS_PER_SEC)
}

/// 00:00:00 on the first day of a month.
pub fn is_month_start(utc_ns: i64) -> bool {
    if utc_ns.rem_euclid(NS_PER_SEC) != 0 {
        return false;
    }
    let secs = utc_ns.div_euclid(NS_PER_SEC);
    if secs.rem_euclid(SECS_PER_DAY) != 0 {
        return false;
    }
    civil_from_days(secs.div_euclid(SECS_PER_DAY)).2 == 1
}

fn parse_ntp_field(s: &str, line: usize, what: &'static str) -> Result<i64, LeapFileError> {
    let v: i64 = s
        .trim()
        .parse()
        .map_err(|_| LeapFileError::BadLine { line, what })?;
    // Sanity: NTP era 0 seconds (1900..2036), non-negative.
    if !(0..=u32::MAX as i64).contains(&v) {
        return Err(LeapFileError::BadLine { line, what });
    }
    Ok(v)
}

/// Parse and verify a `leap-seconds.list` text.
pub fn parse(text: &str) -> Result<LeapSecondsList, LeapFileError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(LeapFileError::TooLarge);
    }
    let mut updated = None;
    let mut expires = None;
    let mut hash: Option<[u32; 5]> = None;
    let mut entries: Vec<LeapEntry> = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        if let Some(rest) = raw.strip_prefix("#$") {
            if updated.is_some() {
                return Err(LeapFileError::Duplicate("#$"));
            }
            updated = Some(parse_ntp_field(rest, line, "last update")?);
        } else if let Some(rest) = raw.strip_prefix("#@") {
            if expires.is_some() {
                return Err(LeapFileError::Duplicate("#@"));
            }
            expires = Some(parse_ntp_field(rest, line, "expiry")?);
        } else if let Some(rest) = raw.strip_prefix("#h") {
            if hash.is_some() {
                return Err(LeapFileError::Duplicate("#h"));
            }
            let mut words = [0u32; 5];
            let mut n = 0;
            for tok in rest.split_whitespace() {
                let slot = words.get_mut(n).ok_or(LeapFileError::BadLine {
                    line,
                    what: "hash (more than 5 words)",
                })?;
                *slot = u32::from_str_radix(tok, 16).map_err(|_| LeapFileError::BadLine {
                    line,
                    what: "hash word",
                })?;
                n += 1;
            }
            if n != 5 {
                return Err(LeapFileError::BadLine {
                    line,
                    what: "hash (need 5 words)",
                });
            }
            hash = Some(words);
        } else if raw.starts_with('#') {
            continue;
        } else {
            let data = raw.split('#').next().unwrap_or("");
            let mut fields = data.split_whitespace();
            let Some(ntp) = fields.next() else {
                continue; // blank line
            };
            let ntp = parse_ntp_field(ntp, line, "data time")?;
            let offset: i32 = fields
                .next()
                .and_then(|f| f.parse().ok())
                .filter(|v: &i32| (0..=1000).contains(v))
                .ok_or(LeapFileError::BadLine {
                    line,
                    what: "TAI-UTC",
                })?;
            if fields.next().is_some() {
                return Err(LeapFileError::BadLine {
                    line,
                    what: "data line (extra fields)",
                });
            }
            let start = ntp_to_utc_ns(ntp).ok_or(LeapFileError::BadLine {
                line,
                what: "data time",
            })?;
            if !is_month_start(start) {
                return Err(LeapFileError::NotMonthStart { line });
            }
            if let Some(prev) = entries.last() {
                if start <= prev.start_utc_ns {
                    return Err(LeapFileError::NotIncreasing { line });
                }
                let delta = offset as i64 - prev.tai_utc as i64;
                if delta.abs() != 1 {
                    return Err(LeapFileError::BadStep { line, delta });
                }
            }
            entries.push(LeapEntry {
                start_utc_ns: start,
                tai_utc: offset,
            });
        }
    }
    let updated = updated.ok_or(LeapFileError::MissingUpdate)?;
    let expires = expires.ok_or(LeapFileError::MissingExpiry)?;
    let expected = hash.ok_or(LeapFileError::MissingHash)?;
    let computed = data_hash(text);
    if computed != expected {
        let fmt = |w: &[u32; 5]| {
            w.iter()
                .map(|x| format!("{x:08x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Err(LeapFileError::HashMismatch {
            expected: fmt(&expected),
            computed: fmt(&computed),
        });
    }
    if entries.is_empty() {
        return Err(LeapFileError::Empty);
    }
    Ok(LeapSecondsList {
        entries,
        updated_utc_ns: ntp_to_utc_ns(updated).ok_or(LeapFileError::MissingUpdate)?,
        expires_utc_ns: ntp_to_utc_ns(expires).ok_or(LeapFileError::MissingExpiry)?,
    })
}

impl LeapSecondsList {
    /// TAI − UTC in force at `utc_ns` (None before the first entry).
    pub fn tai_utc_at(&self, utc_ns: i64) -> Option<i32> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.start_utc_ns <= utc_ns)
            .map(|e| e.tai_utc)
    }

    /// The first leap whose instant is after `utc_ns`.
    pub fn next_leap_after(&self, utc_ns: i64) -> Option<PendingLeap> {
        self.entries.windows(2).find_map(|w| {
            let (prev, e) = (w[0], w[1]);
            (e.start_utc_ns > utc_ns).then_some(PendingLeap {
                at_utc_ns: e.start_utc_ns,
                insert: e.tai_utc > prev.tai_utc,
            })
        })
    }

    /// Whether the file lists a leap at exactly this instant, and which.
    pub fn leap_at(&self, at_utc_ns: i64) -> Option<PendingLeap> {
        self.next_leap_after(at_utc_ns.saturating_sub(1))
            .filter(|l| l.at_utc_ns == at_utc_ns)
    }

    pub fn is_expired(&self, now_utc_ns: i64) -> bool {
        now_utc_ns >= self.expires_utc_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ntp(y: i64, m: u32) -> i64 {
        crate::time::days_from_civil(y, m, 1) * SECS_PER_DAY + NTP_UNIX_OFFSET_S
    }

    fn build(body: &str) -> String {
        let words = data_hash(body);
        format!("{body}{}\n", hash_line(&words))
    }

    #[test]
    fn hash_words_may_drop_leading_zeros() {
        let body = format!(
            "#$\t{}\n#@\t{}\n{}\t10\t# 1 Jan 1972\n",
            ntp(2016, 7),
            ntp(2030, 1),
            ntp(1972, 1)
        );
        let words = data_hash(&body);
        let line = hash_line(&words);
        assert!(!line.contains(" 0"), "hash_line uses minimal hex: {line}");
        let list = parse(&format!("{body}{line}\n")).expect("valid");
        assert_eq!(list.entries.len(), 1);
    }

    #[test]
    fn month_start_detection() {
        let t = crate::time::utc_from_fields(2017, 1, 1, 0, 0, 0, 0).unwrap();
        assert!(is_month_start(t));
        assert!(!is_month_start(t + NS_PER_SEC));
        assert!(!is_month_start(t + SECS_PER_DAY * NS_PER_SEC));
    }

    #[test]
    fn rejects_two_second_step() {
        let body = format!(
            "#$\t{}\n#@\t{}\n{}\t10\n{}\t12\n",
            ntp(2016, 7),
            ntp(2030, 1),
            ntp(1972, 1),
            ntp(1972, 7)
        );
        assert!(matches!(
            parse(&build(&body)),
            Err(LeapFileError::BadStep { delta: 2, .. })
        ));
    }
}
