"""CILogon presets: what each preset compiles to, and every mistake refused at hub start."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from tornado import web
from traitlets import TraitError
from traitlets.config import Config

from hub_extensions.auth.idp_snapshot import load_idp_list
from hub_extensions.auth.presets import PresetConfigError, check_cilogon_presets, compile_providers

if TYPE_CHECKING:
    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

# oauthenticator (hub_extensions.auth.cilogon) and jsonschema are imported in the tests that
# use them: their import compiles jsonschema's format grammars, over a second of every
# collection of the suite.

pytestmark = pytest.mark.unit

GITHUB = "http://github.com/login/oauth/authorize"
GOOGLE = "http://google.com/accounts/o8/id"
MICROSOFT = "http://login.microsoftonline.com/common/oauth2/v2.0/authorize"
ORCID = "http://orcid.org/oauth/authorize"
UNI = "https://idp.uni.edu/idp/shibboleth"
ROOT = "CILogonPresetsAuthenticator.providers"


# Module fixtures, so the @given tests below import before their first example (an import
# inside an example would exceed hypothesis' deadline once, then pass: "flaky").
@pytest.fixture(scope="module")
def check_idp_schema():
    """jsonschema's check of one entry of CILogonOAuthenticator.idps with its own schema."""
    import jsonschema
    from oauthenticator import cilogon as oauth_cilogon

    path = Path(oauth_cilogon.__file__).parent / "schemas" / "cilogon-schema.yaml"
    schema = yaml.safe_load(path.read_text())
    return lambda idp: jsonschema.validate(idp, schema)


@pytest.fixture(scope="module")
def bare_orcid_id():
    from hub_extensions.auth.cilogon import bare_orcid_id

    return bare_orcid_id


def problems(providers, **kwargs) -> list[str]:
    with pytest.raises(PresetConfigError) as info:
        compile_providers(providers, **kwargs)
    return info.value.problems


def one_problem(providers, **kwargs) -> str:
    found = problems(providers, **kwargs)
    assert len(found) == 1, found
    return found[0]


# --- what the presets compile to ------------------------------------------------------


def test_institution_with_one_domain_strips_it_and_allows_that_domain():
    idps = compile_providers([{"preset": "institution", "entity_id": UNI, "domains": ["uni.edu"]}])
    assert idps.idps == {
        UNI: {
            "username_derivation": {
                "username_claim": "eppn",
                "action": "strip_idp_domain",
                "domain": "uni.edu",
            },
            "allowed_domains": ["uni.edu"],
            "allowed_domains_claim": "eppn",
            "default": True,
        }
    }
    assert idps.scope == ["openid", "email", "profile", "org.cilogon.userinfo"]


def test_institution_without_domains_allows_all_of_it_with_the_full_claim():
    idp = compile_providers([{"preset": "institution", "entity_id": UNI, "claim": "email"}]).idps
    assert idp[UNI] == {
        "username_derivation": {"username_claim": "email"},
        "allow_all": True,
        "default": True,
    }


def test_institution_with_several_domains_keeps_the_full_claim():
    idp = compile_providers(
        [{"preset": "institution", "entity_id": UNI, "domains": ["uni.edu", "med.uni.edu"]}]
    ).idps[UNI]
    assert idp["username_derivation"] == {"username_claim": "eppn"}
    assert idp["allowed_domains"] == ["uni.edu", "med.uni.edu"]


def test_social_presets_prefix_usernames_and_map_to_cilogon_entity_ids():
    compiled = compile_providers(
        [
            {"preset": "google", "domains": ["uni.edu"], "default": True},
            {"preset": "microsoft", "domains": ["uni.edu"]},
            {"preset": "github", "allow_all": True},
            {"preset": "orcid"},
        ],
        allowed_users={"orcid:0000-0002-1825-0097"},
    )
    derivations = {k: v["username_derivation"] for k, v in compiled.idps.items()}
    assert derivations == {
        GOOGLE: {"username_claim": "email", "action": "prefix", "prefix": "google"},
        MICROSOFT: {"username_claim": "email", "action": "prefix", "prefix": "microsoft"},
        GITHUB: {"username_claim": "preferred_username", "action": "prefix", "prefix": "github"},
        ORCID: {"username_claim": "oidc", "action": "prefix", "prefix": "orcid"},
    }
    assert compiled.idps[GOOGLE]["allowed_domains_claim"] == "email"
    assert compiled.idps[GITHUB]["allow_all"] is True
    assert "allow_all" not in compiled.idps[ORCID]  # only with an explicit allow_all: True
    assert compiled.orcid_entity_ids == {ORCID}
    assert compiled.idps[GOOGLE]["default"] is True
    assert "default" not in compiled.idps[GITHUB]


def test_shared_namespace_drops_the_social_prefix():
    compiled = compile_providers(
        [
            {"preset": "institution", "entity_id": UNI, "domains": ["uni.edu"], "default": True},
            {"preset": "google", "domains": ["partner.org"]},
        ],
        shared_namespace=True,
    )
    assert compiled.idps[GOOGLE]["username_derivation"] == {"username_claim": "email"}


def test_staff_only_has_no_allow_rule():
    idp = compile_providers(
        [{"preset": "staff_only", "provider": "github"}], admin_users={"github:octocat"}
    ).idps[GITHUB]
    assert idp == {
        "username_derivation": {
            "username_claim": "preferred_username",
            "action": "prefix",
            "prefix": "github",
        },
        "default": True,
    }


def test_without_a_current_idp_list_institutions_get_one_info_line_not_warnings():
    compiled = compile_providers(
        [
            {"preset": "institution", "entity_id": UNI, "default": True, "domains": ["uni.edu"]},
            {
                "preset": "institution",
                "entity_id": "https://idp.other.edu/idp/shibboleth",
                "only_listed_users": True,
            },
        ],
        idp_list=load_idp_list(None),  # the bundled placeholder: never fetched
        allowed_users={"visitor@other.org"},
    )
    assert compiled.warnings == []
    (info,) = compiled.info
    assert "has never been fetched" in info
    assert re.search(r"\(\d+ entries, fetched never\)", info)
    assert "hub-extensions cilogon refresh-idps" in info


@given(
    st.lists(st.sampled_from(["google", "microsoft", "github", "orcid"]), min_size=1, unique=True),
    st.booleans(),
)
def test_every_compiled_idp_passes_oauthenticators_schema(check_idp_schema, names, shared):
    providers = [
        {"preset": n, **({"domains": [f"{n}.example.org"]} if n in ("google", "microsoft") else {})}
        for n in names
    ]
    providers[0]["default"] = True
    prefix = "" if shared else "{}:"
    listed = {prefix.format("github") + "octocat"} if "github" in names else set()
    listed |= {prefix.format("orcid") + "0000-0002-1825-0097"} if "orcid" in names else set()
    if shared and {"github", "orcid"} <= set(names):  # both bare names: refused
        with pytest.raises(PresetConfigError, match="can come from"):
            compile_providers(providers, shared_namespace=shared, allowed_users=listed)
        return
    compiled = compile_providers(providers, shared_namespace=shared, allowed_users=listed)
    for idp in compiled.idps.values():
        check_idp_schema(idp)


# --- ORCID iDs -------------------------------------------------------------------------


@given(st.from_regex(r"\A\d{4}-\d{4}-\d{4}-\d{3}[\dX]\Z", fullmatch=True))
def test_the_bare_orcid_id_is_taken_from_the_oidc_url(bare_orcid_id, orcid_id):
    assert bare_orcid_id(f"http://orcid.org/{orcid_id}") == orcid_id
    assert bare_orcid_id(f"https://orcid.org/{orcid_id}") == orcid_id


@pytest.mark.parametrize(
    "value",
    [
        "http://orcid.org/0000-0002-1825-009",
        "http://orcid.org/0000-0002-1825-0097/works",
        "http://evil.org/0000-0002-1825-0097",
        "0000-0002-1825-0097x",
        "",
    ],
)
def test_anything_but_an_orcid_id_is_refused(bare_orcid_id, value):
    assert bare_orcid_id(value) is None


# --- every mistake refused at start ----------------------------------------------------


@pytest.mark.parametrize(
    ("entity_id", "right"),
    [
        ("https://github.com/login/oauth/authorize", GITHUB),
        ("accounts.google.com", GOOGLE),
        ("https://accounts.google.com", GOOGLE),
        ("https://login.microsoftonline.com/common/oauth2/v2.0/authorize", MICROSOFT),
        ("https://orcid.org/oauth/authorize", ORCID),
    ],
)
def test_near_miss_social_entity_ids_are_refused_with_the_right_one(entity_id, right):
    message = one_problem([{"preset": "institution", "entity_id": entity_id}])
    assert message.startswith(f"{ROOT}[0].entity_id: {entity_id!r} is not a CILogon entity ID.")
    assert f"Did you mean {right!r}?" in message


def test_a_social_entity_id_as_an_institution_points_to_its_preset():
    message = one_problem([{"preset": "institution", "entity_id": GITHUB}])
    assert message.startswith(f"{ROOT}[0].entity_id: '{GITHUB}' is GitHub, not an institution.")
    assert '{"preset": "github"}' in message


def test_an_entity_id_that_is_not_a_url_is_refused():
    message = one_problem([{"preset": "institution", "entity_id": "idp.uni.edu"}])
    assert message.startswith(f"{ROOT}[0].entity_id: 'idp.uni.edu' is not an entity ID")
    assert "https://cilogon.org/idplist/" in message


def test_unknown_keys_get_a_did_you_mean():
    message = one_problem([{"preset": "google", "domians": ["uni.edu"], "domains": ["uni.edu"]}])
    assert message.startswith(f"{ROOT}[0].domians: unknown key for preset 'google'.")
    assert "Did you mean 'domains'?" in message


def test_allow_all_on_microsoft_is_refused_with_the_reason():
    message = problems([{"preset": "microsoft", "allow_all": True}])
    assert any(
        p.startswith(f"{ROOT}[0].allow_all: unknown key") and "every personal Microsoft" in p
        for p in message
    )
    assert any(p.startswith(f"{ROOT}[0].domains: required by preset 'microsoft'.") for p in message)


def test_google_without_domains_is_refused():
    message = one_problem([{"preset": "google"}])
    assert message.startswith(f"{ROOT}[0].domains: required by preset 'google'.")


def test_an_unknown_preset_gets_a_did_you_mean():
    message = one_problem([{"preset": "githbu"}])
    assert message.startswith(f"{ROOT}[0].preset: unknown preset 'githbu'. Did you mean 'github'?")


def test_a_missing_preset_is_refused():
    assert one_problem([{"domains": ["uni.edu"]}]).startswith(f"{ROOT}[0].preset: missing.")


@pytest.mark.parametrize("claim", [None, ""])
def test_a_missing_claim_is_refused(claim):
    message = one_problem([{"preset": "institution", "entity_id": UNI, "claim": claim}])
    assert message == f"{ROOT}[0].claim: missing. Use 'eppn' (the default) or 'email'."


@pytest.mark.parametrize("claim", ["name", "given_name", "family_name"])
def test_an_unstable_claim_is_refused(claim):
    message = one_problem([{"preset": "institution", "entity_id": UNI, "claim": claim}])
    assert message.startswith(f"{ROOT}[0].claim: {claim!r} is not a stable identifier")
    assert message.endswith("Use 'eppn' (the default) or 'email'.")


def test_an_unknown_claim_gets_a_did_you_mean():
    message = one_problem([{"preset": "institution", "entity_id": UNI, "claim": "epnn"}])
    assert "Did you mean 'eppn'?" in message


@pytest.mark.parametrize("claim", ["preferred_username", "oidc"])
def test_a_domain_rule_needs_an_email_like_claim(claim):
    entry = {"preset": "institution", "entity_id": UNI, "claim": claim, "domains": ["uni.edu"]}
    message = one_problem([entry])
    assert message.startswith(f"{ROOT}[0].claim: {claim!r} has no @domain")
    assert "Use claim 'eppn' or 'email', or remove `domains`" in message


@pytest.mark.parametrize("domain", ["*", "*.edu"])
def test_wildcard_domains_need_an_explicit_override(domain):
    message = one_problem([{"preset": "google", "domains": [domain]}])
    assert message.startswith(f"{ROOT}[0].domains[0]: {domain!r} is a wildcard")
    assert "allow_wildcard_domains: True" in message
    allowed = {"preset": "google", "domains": [domain], "allow_wildcard_domains": True}
    assert compile_providers([allowed]).idps[GOOGLE]["allowed_domains"] == [domain]


def test_domains_must_be_lowercase_and_without_at():
    found = problems([{"preset": "google", "domains": ["Uni.EDU", "alice@uni.edu"]}])
    assert found == [
        f"{ROOT}[0].domains[0]: 'Uni.EDU' is not lowercase. Write it as 'uni.edu'.",
        f"{ROOT}[0].domains[1]: 'alice@uni.edu' contains '@'. List the domain only, e.g. 'uni.edu'.",
    ]


def test_two_institutions_both_stripping_to_bare_names_collide():
    message = one_problem(
        [
            {"preset": "institution", "entity_id": UNI, "domains": ["uni.edu"], "default": True},
            {"preset": "institution", "entity_id": "https://idp.b.edu/", "domains": ["b.edu"]},
        ]
    )
    assert message.startswith(f"{ROOT}[1]: its usernames ('<eppn without @b.edu>') can coincide")
    assert "strip_domain: False" in message
    compile_providers(
        [
            {"preset": "institution", "entity_id": UNI, "domains": ["uni.edu"], "default": True},
            {
                "preset": "institution",
                "entity_id": "https://idp.b.edu/",
                "domains": ["b.edu"],
                "strip_domain": False,
            },
        ]
    )


def test_a_shared_namespace_whose_emails_overlap_is_refused():
    providers = [
        {"preset": "institution", "entity_id": UNI, "claim": "email", "default": True},
        {"preset": "google", "domains": ["uni.edu"]},
    ]
    message = one_problem(providers, shared_namespace=True)
    assert message.startswith(f"{ROOT}[1]: its usernames ('<email>') can coincide with those")
    assert "shared_namespace = False" in message
    compile_providers(providers)  # with prefixes, google:alice@uni.edu is not alice@uni.edu


def test_github_and_orcid_collide_in_a_shared_namespace():
    message, *_ = problems(
        [{"preset": "github", "default": True, "allow_all": True}, {"preset": "orcid"}],
        shared_namespace=True,
    )
    assert message.startswith(f"{ROOT}[1]: its usernames ('<ORCID iD>') can coincide")
    assert "both admit names without @" in message


def test_an_admin_no_provider_can_produce_is_refused_with_the_matching_form():
    message = one_problem([{"preset": "github", "allow_all": True}], admin_users={"octocat"})
    assert message.startswith(
        "Authenticator.admin_users: 'octocat' is a username no provider can produce"
    )
    assert "'github:<login>'" in message
    assert f"Did you mean 'github:octocat' (from {ROOT}[0])?" in message


def test_an_admin_with_the_stripped_domain_is_refused():
    message = one_problem(
        [{"preset": "institution", "entity_id": UNI, "domains": ["uni.edu"]}],
        admin_users={"alice@uni.edu"},
    )
    assert f"Did you mean 'alice' (from {ROOT}[0])?" in message


def test_several_providers_need_exactly_one_default():
    two = [{"preset": "github", "allow_all": True}, {"preset": "orcid", "allow_all": True}]
    assert one_problem(two).startswith(f"{ROOT}: none of the 2 providers has default: True.")
    both = [{**two[0], "default": True}, {**two[1], "default": True}]
    assert one_problem(both).startswith(f"{ROOT}: several providers have default: True")


def test_a_single_provider_is_the_default():
    compiled = compile_providers([{"preset": "github"}], allowed_users={"github:octocat"})
    assert compiled.idps[GITHUB]["default"] is True


def test_an_empty_provider_list_is_refused():
    assert one_problem([]).startswith(f"{ROOT}: the provider list is empty.")


def test_staff_only_needs_someone_who_can_log_in_through_it():
    message = one_problem([{"preset": "staff_only", "provider": "google"}])
    assert message.startswith(f"{ROOT}[0]: admits only Authenticator.admin_users and allowed_")
    assert "none of them has its form ('google:<email>'), so nobody can log in" in message
    # an admin of another provider's form is not one of its staff
    found = problems(
        [
            {"preset": "institution", "entity_id": UNI, "domains": ["uni.edu"], "default": True},
            {"preset": "staff_only", "provider": "github"},
        ],
        admin_users={"prof"},
    )
    assert found == [
        f"{ROOT}[1]: admits only Authenticator.admin_users and allowed_users, and none of them "
        "has its form ('github:<login>'), so nobody can log in through it. Give it a `prefix`, "
        "list the people who should (e.g. c.Authenticator.allowed_users = {'github:octocat'}), "
        "or remove the provider."
    ]


def test_staff_only_provider_gets_a_did_you_mean():
    message = one_problem([{"preset": "staff_only", "provider": "githb"}], admin_users={"x"})
    assert message.startswith(f"{ROOT}[0].provider: 'githb' is not one of 'google', 'github',")
    assert "Did you mean 'github'?" in message


def test_the_same_idp_twice_is_refused():
    message = one_problem(
        [
            {"preset": "github", "default": True, "allow_all": True},
            {"preset": "staff_only", "provider": "github", "prefix": "gh"},
        ],
        admin_users={"gh:octocat"},
    )
    assert message.startswith(f"{ROOT}[1]: the same identity provider as {ROOT}[0]")


def test_every_problem_is_reported_at_once():
    found = problems(
        [
            {
                "preset": "institution",
                "entity_id": "https://github.com/login/oauth/authorize",
                "default": True,
            },
            {"preset": "google", "domains": ["*.edu"], "allow_all": True},
            {"preset": "nope"},
        ]
    )
    assert [p.split(":", 1)[0] for p in found] == [
        f"{ROOT}[0].entity_id",
        f"{ROOT}[1].allow_all",
        f"{ROOT}[1].domains[0]",
        f"{ROOT}[2].preset",
    ]


# --- the start-time check of hub_extensions.setup(c) -------------------------------------


def presets_config(
    providers, authenticator="hub_extensions.auth.cilogon.CILogonPresetsAuthenticator"
):
    c = Config()
    c.JupyterHub.authenticator_class = authenticator
    c.CILogonPresetsAuthenticator.providers = providers
    return c


def test_check_reports_problems_of_the_configured_presets_authenticator():
    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

    assert check_cilogon_presets(presets_config([])) == [
        f"{ROOT}: the provider list is empty. List at least one, e.g. "
        "[{'preset': 'institution', 'entity_id': 'https://idp.example.edu/idp/shibboleth'}]."
    ]
    c = presets_config(
        [{"preset": "github", "allow_all": True}], authenticator=CILogonPresetsAuthenticator
    )
    c.Authenticator.admin_users = {"octocat"}
    (message,) = check_cilogon_presets(c)
    assert message.startswith("Authenticator.admin_users: 'octocat'")
    c.Authenticator.admin_users = {"github:octocat"}
    assert check_cilogon_presets(c) == []


def test_check_resolves_the_entry_point_name():
    # the package's own `jupyterhub.authenticators` entry point (pyproject.toml)
    problems = check_cilogon_presets(presets_config([], "cilogon-presets"))
    assert problems
    assert problems[0].startswith("CILogonPresetsAuthenticator.providers")


def test_check_reads_a_subclass_section_and_refuses_idps_set_too():
    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

    class Mine(CILogonPresetsAuthenticator):
        pass

    c = Config()
    c.JupyterHub.authenticator_class = Mine
    c.Mine.providers = [{"preset": "githbu"}]
    c.CILogonOAuthenticator.idps = {GITHUB: {"username_derivation": {"username_claim": "x"}}}
    found = check_cilogon_presets(c)
    assert found[0].startswith("CILogonOAuthenticator.idps: CILogonPresetsAuthenticator.providers")
    assert found[1].startswith(f"{ROOT}[0].preset: unknown preset 'githbu'")


def test_check_ignores_other_authenticators():
    assert check_cilogon_presets(presets_config([], "dummy")) == []
    assert check_cilogon_presets(Config()) == []


# --- the authenticator -------------------------------------------------------------------


def authenticator(providers, **options) -> CILogonPresetsAuthenticator:
    from hub_extensions.auth.cilogon import CILogonPresetsAuthenticator

    c = Config()
    c.CILogonPresetsAuthenticator.providers = providers
    c.CILogonPresetsAuthenticator.idp_list_refresh_interval = 0
    for key, value in options.items():
        c.CILogonPresetsAuthenticator[key] = value
    return CILogonPresetsAuthenticator(config=c)


def test_the_authenticator_compiles_and_logs_its_idps(caplog):
    caplog.set_level(logging.INFO)
    auth = authenticator([{"preset": "institution", "entity_id": UNI}])
    assert list(auth.idps) == [UNI]
    assert auth.idps[UNI]["allow_all"] is True
    assert auth.idps[UNI]["username_derivation"] == {"username_claim": "eppn"}
    assert "org.cilogon.userinfo" in auth.scope
    assert "hub-extensions: CILogon presets compiled to" in caplog.text
    assert "has never been fetched" in caplog.text  # one info line, no warning


def test_the_authenticator_refuses_to_start_listing_every_problem():
    with pytest.raises(TraitError) as info:
        authenticator([{"preset": "google"}, {"preset": "nope"}])
    message = str(info.value)
    assert f"{ROOT}[0].domains: required" in message
    assert f"{ROOT}[1].preset: unknown preset" in message


def test_shared_namespace_is_an_option():
    auth = authenticator([{"preset": "github", "allow_all": True}], shared_namespace=True)
    assert auth.idps[GITHUB]["username_derivation"] == {"username_claim": "preferred_username"}


def test_orcid_logins_get_the_bare_id_or_a_403():
    auth = authenticator([{"preset": "orcid", "allow_all": True}])
    info = {"idp": ORCID, "oidc": "http://orcid.org/0000-0002-1825-0097"}
    assert auth.user_info_to_username(info) == "orcid:0000-0002-1825-0097"
    with pytest.raises(web.HTTPError) as refused:
        auth.user_info_to_username({"idp": ORCID, "oidc": "http://orcid.org/100%-real"})
    assert refused.value.status_code == 403
    assert "ORCID login refused" in str(refused.value)
    assert "'http://orcid.org/100%-real'" in str(refused.value)


def test_an_unconfigured_idp_gets_a_403():
    auth = authenticator([{"preset": "orcid", "allow_all": True}])
    with pytest.raises(web.HTTPError) as refused:
        auth.user_info_to_username({"idp": GITHUB, "preferred_username": "octocat"})
    assert refused.value.status_code == 403


def test_a_refused_login_says_which_rule_refused_it():
    auth = authenticator([{"preset": "google", "domains": ["uni.edu"]}])
    user = {"idp": GOOGLE, "idp_name": "Google", "email": "bob@gmail.com"}
    model = {"name": "google:bob@gmail.com", "admin": False, "auth_state": {"cilogon_user": user}}
    with pytest.raises(web.HTTPError) as refused:
        asyncio.run(auth.check_allowed("google:bob@gmail.com", model))
    assert refused.value.status_code == 403
    assert "'google:bob@gmail.com' (from Google) is not allowed on this hub" in str(refused.value)
    assert "only email at uni.edu may log in" in str(refused.value)
    user["email"] = "bob@uni.edu"
    assert asyncio.run(auth.check_allowed("google:bob@uni.edu", model)) is True


def test_an_unreachable_admin_is_reported_with_the_other_problems():
    found = problems(
        [{"preset": "github"}, {"preset": "orcid"}], admin_users={"octocat", "github:x"}
    )
    assert [p.split(":", 1)[0] for p in found] == [
        ROOT,
        "Authenticator.admin_users",
        f"{ROOT}[1]",  # orcid: nobody listed can log in through it
    ]
