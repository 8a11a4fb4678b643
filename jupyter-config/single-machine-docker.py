# A single-machine hub: DockerSpawner on the host's loopback network, SQLite, hub-extensions.
# Start with `jupyterhub -f single-machine-docker.py` behind a TLS-terminating web server.
import hub_extensions

c = get_config()  # noqa: F821

c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.db_url = "sqlite:////srv/jupyterhub/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "/srv/jupyterhub/jupyterhub_cookie_secret"  # noqa: S105

# Servers share the host's network and listen on a free 127.0.0.1 port each, so nothing
# is published beyond loopback and no bridge address needs configuring.
c.JupyterHub.spawner_class = "loopback-docker"
c.DockerSpawner.image = "quay.io/jupyter/scipy-notebook:2026-11-02"
c.DockerSpawner.remove = True
c.DockerSpawner.mem_limit = "4G"
c.DockerSpawner.cpu_limit = 2.0
c.DockerSpawner.volumes = {"jupyterhub-user-{username}": "/home/jovyan"}

# The suite's service listens on loopback next to the hub (the default shown for clarity).
c.HubExtensions.service_url = "http://127.0.0.1:10101"
c.HubExtensions.service_log_level = "INFO"

hub_extensions.setup(c)
