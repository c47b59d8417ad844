//! Symmetric-key authentication: keys file, legacy MD5/SHA1 MACs
//! (digest = H(key || packet)) and AES-128-CMAC (RFC 8573).
//!
//! Keys file format (ntpd/chrony style), one key per line, `#` starts a comment:
//! `ID TYPE KEY` with TYPE `MD5`/`M`, `SHA1`, or `AES128CMAC` (also `AES128`,
//! `AES-128-CMAC`, `CMAC`) and KEY either `HEX:...`, `ASCII:...`, or bare: a bare
//! key longer than 20 characters made only of hex digits is hex (ntpd's rule),
//! otherwise ASCII. AES-128-CMAC keys must be exactly 16 bytes.

use aes::Aes128;
use cmac::{Cmac, Mac};
use md5::Md5;
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyType {
    Md5,
    Sha1,
    AesCmac,
}

impl KeyType {
    /// Digest length on the wire, in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            KeyType::Md5 | KeyType::AesCmac => 16,
            KeyType::Sha1 => 20,
        }
    }
}

#[derive(Clone)]
pub struct Key {
    pub id: u32,
    pub kind: KeyType,
    secret: Vec<u8>,
    /// Pre-keyed CMAC state (key schedule done once, cloned per packet).
    cmac: Option<Cmac<Aes128>>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Key")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeysError {
    #[error("keys file line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("keys file: {0}")]
    Io(String),
}

impl Key {
    pub fn new(id: u32, kind: KeyType, secret: Vec<u8>) -> Result<Key, String> {
        if id == 0 {
            return Err("key id 0 is reserved".into());
        }
        if secret.is_empty() {
            return Err("empty key".into());
        }
        let cmac = match kind {
            KeyType::AesCmac => Some(
                <Cmac<Aes128> as Mac>::new_from_slice(&secret)
                    .map_err(|_| "AES-128-CMAC key must be 16 bytes".to_string())?,
            ),
            _ => None,
        };
        Ok(Key {
            id,
            kind,
            secret,
            cmac,
        })
    }

    /// MAC over `data` into `out` (at least 20 bytes); returns the digest length.
    pub fn compute(&self, data: &[u8], out: &mut [u8; 20]) -> usize {
        match self.kind {
            KeyType::Md5 => {
                let mut h = Md5::new();
                h.update(&self.secret);
                h.update(data);
                out[..16].copy_from_slice(&h.finalize());
                16
            }
            KeyType::Sha1 => {
                let mut h = Sha1::new();
                h.update(&self.secret);
                h.update(data);
                out.copy_from_slice(&h.finalize());
                20
            }
            KeyType::AesCmac => match &self.cmac {
                Some(c) => {
                    let mut m = c.clone();
                    m.update(data);
                    out[..16].copy_from_slice(&m.finalize().into_bytes());
                    16
                }
                None => 0,
            },
        }
    }

    /// Constant-time check of `digest` against the MAC of `data`.
    pub fn verify(&self, data: &[u8], digest: &[u8]) -> bool {
        let mut buf = [0u8; 20];
        let n = self.compute(data, &mut buf);
        n != 0 && n == digest.len() && constant_time_eq(&buf[..n], digest)
    }
}

/// Equal-length comparison whose time does not depend on where bytes differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Keys by id.
#[derive(Debug, Clone, Default)]
pub struct KeyStore {
    keys: HashMap<u32, Key>,
}

impl KeyStore {
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    pub fn get(&self, id: u32) -> Option<&Key> {
        self.keys.get(&id)
    }
    pub fn insert(&mut self, key: Key) {
        self.keys.insert(key.id, key);
    }

    pub fn load(path: &Path) -> Result<KeyStore, KeysError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| KeysError::Io(format!("{}: {e}", path.display())))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Result<KeyStore, KeysError> {
        let mut store = KeyStore::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |reason: &str| KeysError::Line {
                line: i + 1,
                reason: reason.to_string(),
            };
            let mut parts = line.split_whitespace();
            let (Some(id), Some(kind), Some(value)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(err("expected `ID TYPE KEY`"));
            };
            let id: u32 = id.parse().map_err(|_| err("bad key id"))?;
            let kind = match kind.to_ascii_uppercase().as_str() {
                "M" | "MD5" => KeyType::Md5,
                "SHA1" | "SHA-1" => KeyType::Sha1,
                "AES128CMAC" | "AES128" | "AES-128-CMAC" | "AES-128" | "CMAC" => KeyType::AesCmac,
                _ => return Err(err("unsupported key type (MD5, SHA1, AES128CMAC)")),
            };
            let secret = decode_secret(value).ok_or_else(|| err("bad key value"))?;
            let key = Key::new(id, kind, secret).map_err(|r| err(&r))?;
            store.insert(key);
        }
        Ok(store)
    }
}

fn decode_secret(v: &str) -> Option<Vec<u8>> {
    if let Some(h) = v.strip_prefix("HEX:") {
        return hex::decode(h).ok();
    }
    if let Some(a) = v.strip_prefix("ASCII:") {
        return Some(a.as_bytes().to_vec());
    }
    if v.len() > 20 && v.len() % 2 == 0 && v.bytes().all(|c| c.is_ascii_hexdigit()) {
        return hex::decode(v).ok();
    }
    Some(v.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keys_file() {
        let ks = KeyStore::parse(
            "# comment\n1 MD5 secret1\n2 SHA1 HEX:0102030405060708090a0b0c0d0e0f1011121314\n\
             3 AES128CMAC 2b7e151628aed2a6abf7158809cf4f3c  # RFC 4493 key\n4 M ASCII:HEX:not\n",
        )
        .unwrap();
        assert_eq!(ks.len(), 4);
        assert_eq!(ks.get(1).unwrap().kind, KeyType::Md5);
        assert_eq!(ks.get(1).unwrap().secret, b"secret1");
        assert_eq!(ks.get(2).unwrap().secret.len(), 20);
        assert_eq!(ks.get(3).unwrap().kind, KeyType::AesCmac);
        assert_eq!(ks.get(4).unwrap().secret, b"HEX:not");
        assert!(ks.get(5).is_none());
    }

    #[test]
    fn keys_file_errors() {
        assert!(KeyStore::parse("1 MD5").is_err());
        assert!(KeyStore::parse("x MD5 abc").is_err());
        assert!(KeyStore::parse("1 DES abc").is_err());
        assert!(KeyStore::parse("0 MD5 abc").is_err());
        assert!(KeyStore::parse("1 AES128CMAC short").is_err());
        assert!(KeyStore::parse("1 MD5 HEX:zz").is_err());
    }

    #[test]
    fn cmac_rfc4493_vector() {
        // RFC 4493 section 4, example 2 (16-byte message).
        let key = hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap();
        let msg = hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap();
        let k = Key::new(1, KeyType::AesCmac, key).unwrap();
        let mut out = [0u8; 20];
        assert_eq!(k.compute(&msg, &mut out), 16);
        assert_eq!(hex::encode(&out[..16]), "070a16b46b4d4144f79bdd9dd04a287c");
        assert!(k.verify(&msg, &out[..16]));
        out[3] ^= 1;
        assert!(!k.verify(&msg, &out[..16]));
    }

    #[test]
    fn md5_is_key_then_packet() {
        // md5("abc") with the key "a" and data "bc" must equal md5 of "abc".
        let k = Key::new(7, KeyType::Md5, b"a".to_vec()).unwrap();
        let mut out = [0u8; 20];
        k.compute(b"bc", &mut out);
        assert_eq!(hex::encode(&out[..16]), "900150983cd24fb0d6963f7d28e17f72");
    }

    #[test]
    fn constant_time_eq_basics() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
