//! HTTPS: rustls with the configured certificate, or a self-signed one made
//! on the first start and kept in the data directory (so browsers that were
//! told to trust it keep trusting it after a restart).

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls;

#[derive(Debug, Clone, PartialEq)]
pub enum TlsSource {
    /// Plain HTTP (the demo on localhost).
    Off,
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
    /// `cert.pem`/`key.pem` in this directory, made when missing.
    SelfSigned {
        dir: PathBuf,
    },
}

/// The rustls acceptor for `source`, or `None` for plain HTTP.
pub fn acceptor(source: &TlsSource) -> anyhow::Result<Option<tokio_rustls::TlsAcceptor>> {
    let (cert, key) = match source {
        TlsSource::Off => return Ok(None),
        TlsSource::Files { cert, key } => (read(cert)?, read(key)?),
        TlsSource::SelfSigned { dir } => self_signed(dir)?,
    };
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(
        server_config(&cert, &key)?,
    ))))
}

fn read(p: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
}

pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<rustls::ServerConfig> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("certificate PEM: {e:?}"))?;
    if certs.is_empty() {
        anyhow::bail!("certificate PEM holds no certificate");
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| anyhow::anyhow!("private key PEM: {e:?}"))?;
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(cfg)
}

/// Read `dir/cert.pem` and `dir/key.pem`, making them first when missing.
pub fn self_signed(dir: &Path) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    if cert_path.exists() && key_path.exists() {
        return Ok((read(&cert_path)?, read(&key_path)?));
    }
    let mut names = vec!["localhost".to_string()];
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let h = h.trim();
        if !h.is_empty() && h != "localhost" {
            names.push(h.to_string());
            names.push(format!("{h}.local"));
        }
    }
    let made = rcgen::generate_simple_self_signed(names)?;
    let cert = made.cert.pem();
    let key = made.signing_key.serialize_pem();
    crate::web::auth::users::create_private_dir(dir)?;
    crate::web::auth::users::write_private(&key_path, key.as_bytes())?;
    std::fs::write(&cert_path, cert.as_bytes())?;
    tracing::info!(cert = %cert_path.display(), "made a self-signed HTTPS certificate");
    Ok((cert.into_bytes(), key.into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (c1, k1) = self_signed(dir.path()).unwrap();
        let (c2, k2) = self_signed(dir.path()).unwrap();
        assert_eq!((c1.clone(), k1.clone()), (c2, k2), "kept across restarts");
        server_config(&c1, &k1).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(server_config(b"nope", &k1).is_err());
    }
}
