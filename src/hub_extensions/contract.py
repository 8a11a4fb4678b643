"""What the hub process and the service process share: names, scopes and message formats.

A core module (it imports nothing of the suite): the hub side (`wiring`) writes these names
into the service's environment and roles, and the service reads them, so neither needs the other's
code.
"""

from __future__ import annotations

#: Role of the hub-extensions service at the hub.
SERVICE_ROLE = "hub-extensions-service"
#: What the service's own token may do at the hub: identify users and read their servers;
#: `read:tokens` shows tokens' metadata (never their secrets): the service reads a token's
#: expiry so that it never honours it longer (service/token_cache.py).
SERVICE_SCOPES = ["list:users", "read:users", "read:groups", "read:servers", "read:tokens"]
#: The service's options travel from the hub to the service process as JSON in this variable.
SERVICE_CONFIG_ENV = "HUB_EXTENSIONS_SERVICE_CONFIG"
#: Custom scope to read every user's usage in the service; grant it with a role in load_roles.
USAGE_READ_SCOPE = "custom:hub-extensions:usage:read"
#: Asked for at an admin's login to the service, so that its token shows admin powers (the
#: hub's admin flag is the user's, whatever the token). It opens the hub's admin page and
#: nothing else there (its actions need their own scopes), and users who lack it don't get it.
ADMIN_MARKER_SCOPE = "admin-ui"
#: The ledger URL the hub uses when the ledger's db_url is empty, computed in the hub (its db_url,
#: cwd).
USAGE_DB_URL_ENV = "HUB_EXTENSIONS_USAGE_DEFAULT_DB_URL"
#: The file through which the hub shares configuration warnings with the service's admin page.
CONFIG_PROBLEMS_ENV = "HUB_EXTENSIONS_CONFIG_PROBLEMS_FILE"
#: The hub's process id: the service stops when that process is gone (service/app.py).
HUB_PID_ENV = "HUB_EXTENSIONS_HUB_PID"
#: JupyterHub's data_files_path as the hub has it, where the service finds the stylesheet it
#: serves to the spawn page (page_style.py); unset means JupyterHub's default.
HUB_DATA_FILES_ENV = "HUB_EXTENSIONS_HUB_DATA_FILES"


def format_problems(
    problems: list[str], warnings: list[str] | None = None, *, who: str = "the hub"
) -> str:
    """The message that stops `who` (the hub, or the service) on invalid options."""
    lines = "\n".join(f"  - {p}" for p in problems)
    text = f"hub-extensions: invalid configuration, {who} will not start:\n{lines}"
    return text + ("\n" + format_warnings(warnings) if warnings else "")


def format_warnings(warnings: list[str]) -> str:
    """The message listing findings that do not stop the hub."""
    lines = "\n".join(f"  - {w}" for w in warnings)
    return (
        f"hub-extensions: {len(warnings)} configuration warning(s); the hub starts, these have "
        "no effect or a better spelling (`hub-extensions check-config --strict` fails on them; "
        f"admins also see them on the service's home page):\n{lines}"
    )
