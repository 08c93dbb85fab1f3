"""HTTPS for the emulator: a throwaway certificate authority and a certificate for loopback.

The official SDKs speak HTTPS only. ``sandbox serve --tls`` makes, for one run:

- a certificate authority (``ca.pem``) that may vouch for this machine's names only: its
  name constraints permit ``localhost``, ``127.0.0.1`` and ``::1`` and nothing else, and its
  private key is never written anywhere, so trusting it (``NODE_EXTRA_CA_CERTS``, httpx's
  ``verify=``, ``curl --cacert``) lets no other certificate in;
- the server's certificate for those three names, signed by it, with its key (``key.pem``,
  readable by the owner only) for uvicorn's ``ssl_certfile``/``ssl_keyfile``.

Elliptic-curve keys (P-256): quick to make on every start, and every TLS client takes them.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: The names the certificate is for: this machine, as clients usually spell it.
LOOPBACK_DNS = ("localhost",)
LOOPBACK_IPS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    """Where one run's certificate files are."""

    ca_certificate: Path
    certificate: Path
    private_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Merchant Desk sandbox"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def make_loopback_certificate(directory: Path, *, now: datetime | None = None) -> TlsFiles:
    """Write ``ca.pem``, ``cert.pem`` and ``key.pem`` for loopback HTTPS into ``directory``."""
    start = (now or datetime.now(UTC)) - timedelta(minutes=5)  # a little slack for clock skew
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Merchant Desk sandbox CA (loopback only)")
    permitted: list[x509.GeneralName] = [x509.DNSName(name) for name in LOOPBACK_DNS]
    permitted += [x509.IPAddress(ipaddress.ip_network(ip)) for ip in LOOPBACK_IPS]
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.NameConstraints(permitted_subtrees=permitted, excluded_subtrees=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in LOOPBACK_DNS]
    alt_names += [x509.IPAddress(ip) for ip in LOOPBACK_IPS]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "cert.pem", directory / "key.pem")
    files.ca_certificate.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    # The key file exists only as long as the server runs; created owner-only from the start.
    descriptor = os.open(files.private_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return files


__all__ = ["LOOPBACK_DNS", "LOOPBACK_IPS", "TlsFiles", "make_loopback_certificate"]
