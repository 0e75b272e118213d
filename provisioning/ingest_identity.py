"""Head office's ingest identity, issued by a CA of its own (the head-office CA).

Why not the fleet CA: Mosquitto accepts every certificate its listener's CA issued, and on the
head-office listener the client id cannot be tied to the certificate (the ingest workers
share one identity and need one id each). With the fleet CA there, any terminal's
certificate was accepted on that listener, and a terminal could take over another client's
session by connecting with its id. The head-office listener trusts only the head-office CA,
whose one certificate is the ingest identity; the terminal listener trusts only the fleet CA,
so each identity is refused in the TLS handshake on the other listener.
"""

from __future__ import annotations

from provisioning import ca as x509ca
from provisioning.fleet import INGEST_CN, Fleet
from provisioning.secure import write_file

INGEST_CA_CN = "Kassa head-office CA"


def has_own_authority(fleet: Fleet) -> bool:
    """True when the ingest certificate exists and the head-office CA issued it."""
    paths = (fleet.ingest_ca_cert_path, fleet.ingest_cert_path, fleet.ingest_key_path)
    if not all(path.exists() for path in paths):
        return False
    authority = x509ca.load_cert(fleet.ingest_ca_cert_path.read_bytes())
    cert = x509ca.load_cert(fleet.ingest_cert_path.read_bytes())
    return cert.issuer == authority.subject and x509ca.common_name(authority) == INGEST_CA_CN


def issue_ingest_identity(fleet: Fleet) -> None:
    """A new head-office CA and a new ingest certificate under it. Also the way to revoke
    the ingest certificate: the old one's CA is no longer trusted once the broker files are
    regenerated and the broker reloaded."""
    authority = x509ca.create_ca(INGEST_CA_CN)
    key, cert = x509ca.issue(authority, INGEST_CN, unit="head office")
    write_file(fleet.ingest_ca_key_path, x509ca.key_pem(authority.key))
    write_file(fleet.ingest_ca_cert_path, x509ca.cert_pem(authority.cert), 0o644)
    write_file(fleet.ingest_key_path, x509ca.key_pem(key))
    write_file(fleet.ingest_cert_path, x509ca.cert_pem(cert))
