# The Zero to JupyterHub hub image with hub-extensions, for charts 4.2.0 to 4.3.x
# (their hub images have JupyterHub 5.3 to 5.4, KubeSpawner 7.0, and oauthenticator 17.3 up to
# 4.3.2, 17.4 from 4.3.3).
#
#   docker build -f images/hub/chart-4.2-4.3.Dockerfile --build-arg CHART_VERSION=4.3.2 \
#     -t registry.example.org/jupyterhub/k8s-hub-extensions:4.3.2-1 .
#
# Build it with the version of the chart you deploy, then set hub.image to it (see
# docs/zero-to-jupyterhub.md). Charts 4.0.0 to 4.1.0 ship JupyterHub 5.2, older than
# hub-extensions supports: pip refuses to build this image on them (upgrade the chart).
# Checked by tests/test_z2jh_images.py (pip's resolution against chart 4.3.2's frozen
# requirements) and scripts/check-hub-images (a real install into a fresh venv).
ARG CHART_VERSION=4.3.2
FROM quay.io/jupyterhub/k8s-hub:${CHART_VERSION}

# What to install: the [cilogon] extra brings oauthenticator >= 17.4, which the CILogon presets
# need (17.3 reads allowed_idps where they set idps; the hub refuses to start on it). Pin a
# version (hub-extensions[cilogon]==X.Y.Z) or give a wheel's path or URL here.
ARG HUB_EXTENSIONS_REQUIREMENT="hub-extensions[cilogon]"

USER root
# The image's JupyterHub and KubeSpawner are the ones the chart was tested with: they are
# pinned for this install, so pip fails rather than upgrade them behind the chart's back.
RUN pip list --format=freeze \
      | grep -iE '^(jupyterhub|jupyterhub-kubespawner)==' > /tmp/hub-image-pins.txt \
 && pip install --no-cache-dir --constraint /tmp/hub-image-pins.txt "${HUB_EXTENSIONS_REQUIREMENT}" \
 && rm /tmp/hub-image-pins.txt
USER jovyan
