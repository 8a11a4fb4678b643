# The demo hub's configuration. `hub-extensions demo` starts JupyterHub with this file and
# passes its choices through HUB_EXTENSIONS_DEMO_* variables; it is also a readable example.
import os
import sys

import hub_extensions

c = get_config()  # type: ignore[name-defined]  # noqa: F821 - JupyterHub provides it
env = os.environ
state = env["HUB_EXTENSIONS_DEMO_STATE"]

c.JupyterHub.ip = env.get("HUB_EXTENSIONS_DEMO_IP", "127.0.0.1")
c.JupyterHub.port = int(env.get("HUB_EXTENSIONS_DEMO_PORT", "8000"))
c.JupyterHub.base_url = env.get("HUB_EXTENSIONS_DEMO_BASE_URL", "/")
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env["HUB_EXTENSIONS_DEMO_HUB_PORT"])
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env['HUB_EXTENSIONS_DEMO_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.pid_file = os.path.join(state, "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = os.path.join(state, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(state, "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True

c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = env["HUB_EXTENSIONS_DEMO_PASSWORD"]
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {"demo"}

run_marker = {"HUB_EXTENSIONS_DEMO_RUN": env["HUB_EXTENSIONS_DEMO_RUN"]}
c.Spawner.environment = run_marker
c.Spawner.start_timeout = 60
if env.get("HUB_EXTENSIONS_DEMO_SPAWNER") == "docker":
    # DockerSpawner on the host's loopback network, with the profiles form
    c.JupyterHub.spawner_class = "profiles-loopback-docker"
    image = env["HUB_EXTENSIONS_DEMO_IMAGE"]
    c.DockerSpawner.image = image
    c.DockerSpawner.pull_policy = "ifnotpresent"
    c.DockerSpawner.remove = True
    c.DockerSpawner.prefix = "hub-extensions-demo"
    c.DockerSpawner.extra_create_kwargs = {
        "labels": {"org.hub-extensions.demo-run": env["HUB_EXTENSIONS_DEMO_RUN"]}
    }
    c.ProfilesLoopbackDockerSpawner.profile_list = [
        {
            "display_name": "Small",
            "description": "1 CPU and 1 GiB of memory: reading and light work.",
            "default": True,
            "resources": {"cpu": 1, "memory": "1G"},
            "kubespawner_override": {"cpu_limit": 1.0, "mem_limit": "1G"},
        },
        {
            "display_name": "Medium",
            "description": "2 CPUs and 2 GiB, with a choice of image.",
            "resources": {"cpu": 2, "memory": "2G"},
            "kubespawner_override": {"cpu_limit": 2.0, "mem_limit": "2G"},
            "profile_options": {
                "image": {
                    "display_name": "Image",
                    "choices": {
                        "base": {
                            "display_name": "The suite's base image",
                            "description": "Python, JupyterHub and Jupyter Server.",
                            "kubespawner_override": {"image": image},
                        },
                    },
                    # images built from a repository on this hub are accepted when signed
                    "dynamic_image_building": {"enabled": True},
                    "unlisted_choice": {
                        "enabled": True,
                        "display_name": "Image on this machine",
                        "display_name_in_choices": "Another image...",
                        # not a build result (HubExtensionsBuilds.image_prefix): those launch only
                        # with the signature their builder's form received, never typed in by
                        # someone else
                        "validation_regex": (
                            r"(?!hub-extensions-builds/)"
                            r"[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9][A-Za-z0-9._-]*"
                        ),
                        "validation_message": "An image name with a tag, e.g. python:3.12; "
                        "images built here are launched from Build from a repository.",
                        "kubespawner_override": {"image": "{value}"},
                    },
                },
            },
        },
    ]
else:
    # servers run as local processes (no system users needed), with the profiles form
    c.JupyterHub.spawner_class = "profiles-simple-local"
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(state, "home", "{username}")
    c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
    if os.geteuid() == 0:
        c.Spawner.args = ["--allow-root"]
    c.ProfilesSimpleLocalProcessSpawner.profile_list = [
        {
            "display_name": "Python",
            "description": "A Jupyter server running as a local process.",
            "default": True,
            # LocalProcessSpawner does not enforce these limits; the ledger records them,
            # and the price table below prices them (1 CPU and 1 GiB)
            "kubespawner_override": {
                "environment": {"DEMO_PROFILE": "python"},
                "cpu_limit": 1.0,
                "mem_limit": "1G",
            },
        },
        {
            "display_name": "Teaching",
            "description": "Opens on JupyterLab's <em>file browser</em>, as a class would.",
            "kubespawner_override": {
                "environment": {"DEMO_PROFILE": "teaching"},
                "default_url": "/lab/tree",
            },
        },
    ]

# Cost: prices in the profiles form, the cost widget on the home and spawn pages, budgets.
# The figures are made up. A price version prices every day from its effective date on, and
# each heartbeat prices the time it adds with the version in force that day, so a later
# version never changes past costs. See docs/cost.md.
c.HubExtensionsCost.currency = "EUR"
c.HubExtensionsCost.prices = [
    {
        "effective": "2026-01-01",
        "cpu_hour": 0.04,  # per CPU and hour (the profile's cpu_limit)
        "memory_gib_hour": 0.005,  # per GiB of memory and hour (its mem_limit)
        # a flat hourly rate wins over the computed one: Small (docker), Teaching (local)
        "profiles": {"small": {"hour": 0.03}, "teaching": {"hour": 0.0}},
    },
]
c.HubExtensionsCost.default_user_budget = 20  # EUR per calendar month, for every user
# a heartbeat every 30 s (default 60) makes the widget's figures move while you watch
c.HubExtensionsUsage.heartbeat_interval = 30

c.HubExtensions.service_url = f"http://127.0.0.1:{env['HUB_EXTENSIONS_DEMO_SERVICE_PORT']}"
c.HubExtensions.service_environment = run_marker
admin_config = env.get("HUB_EXTENSIONS_DEMO_CONFIG")
if admin_config:  # hub-extensions demo --config FILE: your settings win over the demo's above
    try:
        load_subconfig(admin_config)  # type: ignore[name-defined]  # noqa: F821 - from JupyterHub
    except Exception as err:  # a mistake in that file: one line saying where, no traceback
        from hub_extensions.demo.runner import config_file_problem

        print(config_file_problem(admin_config, err), file=sys.stderr)
        raise SystemExit(2) from None
    # this file sets the new section names; an old one in yours (c.Cost) still wins over them,
    # as your file comes last (the hub then warns about the old name)
    from hub_extensions.renames import RENAMED_SECTIONS

    for old_name, (new_name, _) in RENAMED_SECTIONS.items():
        if old_name in c:
            c[new_name].merge(c[old_name])

hub_extensions.setup(c)
