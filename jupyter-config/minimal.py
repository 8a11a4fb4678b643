# The least a jupyterhub_config.py needs to add hub-extensions to an existing hub.
# Keep your own settings; setup(c) adds the managed service, its role and templates
# and checks every hub-extensions option before the hub starts.
import hub_extensions

c = get_config()  # noqa: F821

hub_extensions.setup(c)
