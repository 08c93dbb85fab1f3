"""URLs, hosts and configuration: every region, environment and key form, and the SDKs' vectors."""

from __future__ import annotations

import asyncio

import pytest

from merchant_desk.amazonpay.client import AmazonPayClient, ClientConfig, default_user_agent
from merchant_desk.amazonpay.endpoints import check_endpoint, service_base_url, service_url
from merchant_desk.amazonpay.errors import ConfigurationError
from tests.test_signing_vectors import of_kind

# The SDKs spell regions their own way; these are the inputs found in the vector file.
SDK_REGIONS = {
    "us": "us", "eu": "eu", "jp": "jp", "EU": "eu",
    "UnitedStates": "na", "Europe": "eu", "Japan": "jp",
}
HOSTS = {"na": "pay-api.amazon.com", "eu": "pay-api.amazon.eu", "jp": "pay-api.amazon.jp"}


def _key_ids(text: str) -> list[str]:
    # Some vectors name two key IDs at once ("LIVE-... or SANDBOX-...").
    for sep in (" or ", " and "):
        if sep in text:
            return text.split(sep)
    return [text]


def _environment(given: dict) -> str:
    if "sandbox" in given:
        return "sandbox" if given["sandbox"] is True else "live"
    env = given.get("environment")
    return "live" if env is None else env.lower()  # the Java SDK defaults to live


@pytest.mark.parametrize("vector", of_kind("service_base_url"), ids=lambda v: v["id"])
def test_service_base_url_vectors(vector):
    given = vector["input"]
    region = SDK_REGIONS[given["region"]]
    for key_id in _key_ids(given.get("public_key_id") or given["publicKeyId"]):
        assert service_base_url(region, _environment(given), key_id) == vector["expected"]["base_url"]


@pytest.mark.parametrize("vector", of_kind("service_url"), ids=lambda v: v["id"])
def test_service_url_vectors(vector):
    given, want = vector["input"], vector["expected"]["url"]
    if "action" in given:  # Java: action already starts with v2/
        region, env = SDK_REGIONS[given["region"]], _environment(given)
        resource = given["action"].removeprefix("v2/")
        key_ids = [given["public_key_id"]]
    elif "config" in given:  # .NET: "UnitedStates/Sandbox/foo", "in-store + merchantScan"
        sdk_region, env, key_id = given["config"].split("/")
        region, env, key_ids = SDK_REGIONS[sdk_region], env.lower(), [key_id]
        resource = given["service_and_resource"].replace(" + ", "/")
    else:  # .NET unified endpoint, by host
        region = next(r for r, h in HOSTS.items() if h == given["region_host"])
        env, key_ids, resource = "live", _key_ids(given["publicKeyId"]), given["resource"]
    for key_id in key_ids:
        got = service_url(region, env, key_id, resource)
        # .NET's BuildFullApiPath appends '/' to every URL; the other SDKs (and we) do not.
        if vector["source"]["repo"].endswith("dotnet"):
            got += "/"
        assert got == want


@pytest.mark.parametrize("vector", of_kind("url_fragment"), ids=lambda v: v["id"])
def test_url_fragment_vectors(vector, rsa_key):
    given, expected = vector["input"], vector["expected"]
    config = ClientConfig(
        public_key_id=given["publicKeyId"],
        private_key=rsa_key,
        region=given["region"],
        environment="sandbox" if given["sandbox"] else "live",
    )
    assert config.path(given["urlFragment"]) == expected["canonical_uri_derived_from_code"]
    assert config.url(given["urlFragment"]) == expected["full_url_derived_from_code"]


@pytest.mark.parametrize(
    ("setting", "region", "host"),
    [
        ("na", "na", "pay-api.amazon.com"),
        ("us", "na", "pay-api.amazon.com"),
        ("US", "na", "pay-api.amazon.com"),
        ("eu", "eu", "pay-api.amazon.eu"),
        ("de", "eu", "pay-api.amazon.eu"),
        ("uk", "eu", "pay-api.amazon.eu"),
        ("jp", "jp", "pay-api.amazon.jp"),
    ],
)
@pytest.mark.parametrize(
    ("key_id", "environment", "prefix", "effective"),
    [
        ("AGZC7M2JCRK6ZSAEPS7N3L6A", "sandbox", "/sandbox/v2", "sandbox"),
        ("AGZC7M2JCRK6ZSAEPS7N3L6A", "live", "/live/v2", "live"),
        ("SANDBOX-AGZC7M2JCRK6ZSAEPS7N3L6A", "live", "/v2", "sandbox"),
        ("sandbox-AGZC7M2JCRK6ZSAEPS7N3L6A", "sandbox", "/v2", "sandbox"),
        ("LIVE-AGZC7M2JCRK6ZSAEPS7N3L6A", "sandbox", "/v2", "live"),
        ("Live-AGZC7M2JCRK6ZSAEPS7N3L6A", "live", "/v2", "live"),
    ],
)
def test_every_region_environment_and_key_form(
    rsa_key, setting, region, host, key_id, environment, prefix, effective
):
    config = ClientConfig(
        public_key_id=key_id, private_key=rsa_key, region=setting, environment=environment
    )
    assert config.region == region
    assert config.host == host
    assert config.effective_environment == effective
    assert config.path("checkoutSessions/abc") == f"{prefix}/checkoutSessions/abc"
    assert config.url("charges") == f"https://{host}{prefix}/charges"


def test_endpoint_override_keeps_the_real_amazon_host_for_signing(rsa_key):
    config = ClientConfig(
        public_key_id="KEYID", private_key=rsa_key, region="de", endpoint="http://127.0.0.1:8080/"
    )
    assert config.endpoint == "http://127.0.0.1:8080"
    assert config.url("refunds/x") == "http://127.0.0.1:8080/sandbox/v2/refunds/x"
    assert config.host == "pay-api.amazon.eu"


def test_endpoint_path_prefix_is_part_of_the_signed_path(rsa_key):
    config = ClientConfig(
        public_key_id="KEYID", private_key=rsa_key, endpoint="https://gateway.example/amazon/"
    )
    assert config.path("charges/x") == "/amazon/sandbox/v2/charges/x"


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:9000",
        "http://127.8.9.10",
        "http://localhost:1",
        "http://LOCALHOST",
        "http://[::1]:8443/",
        "https://pay-api.example.org",
        "https://10.0.0.5:8443",
    ],
)
def test_endpoints_accepted(endpoint):
    assert check_endpoint(endpoint) == endpoint.rstrip("/")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://10.0.0.5:8080",
        "http://pay-api.amazon.com",
        "http://127.0.0.1.nip.io",
        "http://localhost.example.com",
        "http://128.0.0.1",
        "ftp://127.0.0.1",
        "127.0.0.1:8000",
        "https://host.example/?x=1",
        "https://user:pw@host.example",
        "http://127.0.0.1:99999",
    ],
)
def test_endpoints_refused(endpoint):
    with pytest.raises(ConfigurationError):
        check_endpoint(endpoint)


@pytest.mark.parametrize(
    "changes",
    [
        {"region": "fr"},
        {"environment": "production"},
        {"algorithm": "RSA-SHA1"},
        {"public_key_id": "KEY ID"},
        {"public_key_id": "KEY,ID"},
        {"public_key_id": ""},
        {"read_timeout": 0},
        {"endpoint": "http://192.168.1.10"},
    ],
)
def test_bad_configuration_is_refused_plainly(rsa_key, changes):
    with pytest.raises(ConfigurationError):
        ClientConfig(**{"public_key_id": "KEYID", "private_key": rsa_key, **changes})


def test_configuration_refuses_a_key_that_is_not_a_loaded_rsa_key(private_pem):
    with pytest.raises(ConfigurationError):
        ClientConfig(public_key_id="KEYID", private_key=private_pem)


def test_repr_never_shows_the_private_key(rsa_key):
    config = ClientConfig(public_key_id="KEYID", private_key=rsa_key)
    text = repr(config)
    assert "private_key" not in text
    assert "RSAPrivateKey" not in text
    assert "KEYID" in text


def test_user_agent_names_the_product_and_python():
    agent = default_user_agent()
    assert agent.startswith("merchant-desk/0.")
    assert "(Python/3." in agent


def test_client_uses_sandbox_rates_for_sandbox_and_production_rates_for_live(rsa_key):
    from merchant_desk.amazonpay.pacer import PRODUCTION_RATES, SANDBOX_RATES

    sandbox = AmazonPayClient(ClientConfig(public_key_id="KEYID", private_key=rsa_key))
    live = AmazonPayClient(
        ClientConfig(public_key_id="KEYID", private_key=rsa_key, environment="live")
    )
    keyed = AmazonPayClient(
        ClientConfig(public_key_id="SANDBOX-KEYID", private_key=rsa_key, environment="live")
    )
    off = AmazonPayClient(ClientConfig(public_key_id="KEYID", private_key=rsa_key), pacer=False)
    assert sandbox.pacer.rates == SANDBOX_RATES
    assert live.pacer.rates == PRODUCTION_RATES
    assert keyed.pacer.rates == SANDBOX_RATES  # the key decides where requests land
    assert off.pacer is None
    for client in (sandbox, live, keyed, off):
        asyncio.run(client.aclose())


@pytest.mark.parametrize(("environment", "key_id", "badge"), [
    ("sandbox", "AGZC7M2JCRK6ZSAEPS7N3L6A", "SANDBOX"),
    ("live", "AGZC7M2JCRK6ZSAEPS7N3L6A", "LIVE"),
    ("live", "SANDBOX-AGZC7M2JCRK6ZSAEPS7N3L6A", "SANDBOX"),  # the key decides
    ("sandbox", "live-AGZC7M2JCRK6ZSAEPS7N3L6A", "LIVE"),
    ("sandbox", None, "SANDBOX"),
])
def test_the_windows_badge_names_where_requests_really_go(environment, key_id, badge):
    from merchant_desk.settings import Settings

    assert Settings(environment=environment, public_key_id=key_id).label == badge
