# The Zero to JupyterHub hub image with hub-extensions, for chart 4.4.0 and the charts after it
# (JupyterHub 5.5, KubeSpawner 7.0 at 4.4.0 and 7.1 on the main branch, oauthenticator 17.4);
# the main branch's versions are development ones such as 4.3.2-0.dev.git.<n>.h<commit>.
#
#   docker build -f images/hub/chart-after-4.3.Dockerfile --build-arg CHART_VERSION=<chart version> \
#     -t registry.example.org/jupyterhub/k8s-hub-extensions:<chart version>-1 .
#
# Build it with the version of the chart you deploy, then set hub.image to it (see
# docs/zero-to-jupyterhub.md). Checked by tests/test_z2jh_images.py (pip's resolution against
# the main branch's frozen requirements) and scripts/check-hub-images (a real install).
ARG CHART_VERSION
FROM quay.io/jupyterhub/k8s-hub:${CHART_VERSION}

# What to install: the [cilogon] extra keeps oauthenticator >= 17.4 (the image has 17.4 already).
# Pin a version (hub-extensions[cilogon]==X.Y.Z) or give a wheel's path or URL here.
ARG HUB_EXTENSIONS_REQUIREMENT="hub-extensions[cilogon]"

USER root
# The image's JupyterHub and KubeSpawner are the ones the chart was tested with: they are
# pinned for this install, so pip fails rather than upgrade them behind the chart's back.
RUN pip list --format=freeze \
      | grep -iE '^(jupyterhub|jupyterhub-kubespawner)==' > /tmp/hub-image-pins.txt \
 && pip install --no-cache-dir --constraint /tmp/hub-image-pins.txt "${HUB_EXTENSIONS_REQUIREMENT}" \
 && rm /tmp/hub-image-pins.txt
USER jovyan
