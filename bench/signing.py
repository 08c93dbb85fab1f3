"""Signing throughput: a signed Capture Charge request against raw RSA-PSS signing, same run.

Prints one JSON object. ``signed_requests_per_s`` is everything the client does per request
before the socket (date, canonical request, string to sign, RSA-PSS signature, headers) with
one :class:`Signer` whose key is loaded once; ``openssl_sign_per_s`` is the bare
``private_key.sign`` of a 96-byte string with the same key and padding (OpenSSL underneath).
``ratio`` is their quotient: the share of the signing budget our own code leaves intact.
Goal: ratio >= 0.9.

Measured as process CPU time (a busy shared machine then steals less of the result), on one
core (the process is pinned to one CPU where the OS allows it), in many short rounds that
alternate between the two in ABBA order so drift and noise hit both alike; the medians count.

    python bench/signing.py [--iterations N] [--rounds R] [--algorithm ALG]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cryptography
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from merchant_desk.amazonpay import signing

PATH = "/sandbox/v2/charges/S01-5105180-3221187-C056351/capture"
BODY = (
    b'{"captureAmount":{"amount":"14.00","currencyCode":"USD"},"softDescriptor":"Descriptor"}'
)
IDEMPOTENCY_KEY = "AVLo5tI10BHgEk2jEXAMPLEKEY000000"


def pin_to_one_core() -> int | None:
    """Pin this process to one CPU (Linux); return it, or None where that is not possible."""
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        return None
    return cpu


def signed_requests(signer: signing.Signer, iterations: int) -> float:
    """Seconds for ``iterations`` fully signed capture requests."""
    started = time.process_time()
    for _ in range(iterations):
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "x-amz-pay-date": signing.format_pay_date(),
            "x-amz-pay-host": "pay-api.amazon.com",
            "x-amz-pay-region": "na",
            "x-amz-pay-idempotency-key": IDEMPOTENCY_KEY,
        }
        signer.sign("POST", PATH, None, headers, BODY)
    return time.process_time() - started


def raw_signatures(key: rsa.RSAPrivateKey, salt: int, iterations: int) -> float:
    """Seconds for ``iterations`` bare RSA-PSS SHA-256 signatures of a 96-byte string."""
    message = b"x" * 96
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
    sha256 = hashes.SHA256()
    started = time.process_time()
    for _ in range(iterations):
        key.sign(message, pss, sha256)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=100, help="signatures per round")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--algorithm", default=signing.DEFAULT_ALGORITHM,
                        choices=list(signing.ALGORITHMS))
    options = parser.parse_args()

    cpu = pin_to_one_core()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = signing.Signer(key, "AGZC7M2JCRK6ZSAEPS7N3L6A", options.algorithm)
    salt = signing.ALGORITHMS[options.algorithm]

    # Warm both paths (first-call costs: OpenSSL's blinding setup, Python caches).
    signed_requests(signer, 20)
    raw_signatures(key, salt, 20)

    signed_times: list[float] = []
    raw_times: list[float] = []
    for round_index in range(options.rounds):
        measure = [
            lambda: signed_times.append(signed_requests(signer, options.iterations)),
            lambda: raw_times.append(raw_signatures(key, salt, options.iterations)),
        ]
        for step in measure if round_index % 2 == 0 else reversed(measure):
            step()

    signed_per_s = options.iterations / statistics.median(signed_times)
    raw_per_s = options.iterations / statistics.median(raw_times)
    print(
        json.dumps(
            {
                "benchmark": "signing",
                "algorithm": options.algorithm,
                "key_bits": key.key_size,
                "iterations": options.iterations,
                "rounds": options.rounds,
                "signed_requests_per_s": round(signed_per_s, 1),
                "openssl_sign_per_s": round(raw_per_s, 1),
                "ratio": round(signed_per_s / raw_per_s, 3),
                "goal_ratio": 0.9,
                "pinned_cpu": cpu,
                "python": platform.python_version(),
                "cryptography": cryptography.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
