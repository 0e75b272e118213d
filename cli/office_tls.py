"""The dashboard's HTTPS identity from the fleet CA: a server certificate for the dashboard's
host name, issued once and kept in the fleet directory (cli may use provisioning; headoffice
itself may not)."""

from __future__ import annotations

from pathlib import Path


def fleet_certificate(fleet_dir: str, host: str) -> tuple[str, str]:
    """(cert, key) paths of the dashboard certificate for `host`, issued by the fleet CA on
    first use (and again when the host name changed)."""
    from provisioning import ca as x509ca
    from provisioning.fleet import Fleet
    from provisioning.secure import write_file

    fleet = Fleet(Path(fleet_dir))
    if not fleet.ca_cert_path.exists():
        raise SystemExit(f"kassa office web: no fleet CA in {fleet_dir} (run kassa fleet init)")
    out = fleet.root / "office-web"
    cert_path, key_path = out / f"{host}.crt", out / f"{host}.key"
    if not (cert_path.exists() and key_path.exists()):
        authority = x509ca.CA(x509ca.load_key(fleet.ca_key_path.read_bytes()),
                              x509ca.load_cert(fleet.ca_cert_path.read_bytes()))
        key, cert = x509ca.issue(authority, host, unit="head office dashboard", server=True,
                                 dns_names=[host, "127.0.0.1"])
        out.mkdir(parents=True, exist_ok=True)
        write_file(key_path, x509ca.key_pem(key))
        write_file(cert_path, x509ca.cert_pem(cert), 0o644)
    return str(cert_path), str(key_path)
