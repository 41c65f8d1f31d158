//! `--tls-cert` and `--tls-key`: a rustls server configuration from PEM
//! files, with the `ring` provider (already in the lock file, so no second
//! cryptography library to build).

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;

use crate::error::ServerError;

/// Reads the certificate chain and key and builds the server's TLS
/// settings (HTTP/1.1 offered by ALPN).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, ServerError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| ServerError::Tls(format!("--tls-cert {}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| ServerError::Tls(format!("--tls-cert {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(ServerError::Tls(format!(
            "--tls-cert {}: no CERTIFICATE block in the file",
            cert.display()
        )));
    }
    // The key's own error text never includes the key.
    let private_key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServerError::Tls(format!("--tls-key {}: {e}", key.display())))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| ServerError::Tls(format!("the certificate and key do not fit: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
