#!/usr/bin/env bash
# Lays out ../shared/z2jh/ (see its README in the steering repository) from a clone of the
# public chart repository jupyterhub/zero-to-jupyterhub-k8s, for CI runs that cannot check out
# the steering repository. The files are the chart's, read at CI time, never committed here.
#   usage: shared-z2jh.sh CHART_CLONE DEST   (DEST: e.g. shared/z2jh)
set -euo pipefail
src=$1 dest=$2
main=48ea50e34daddde55d76e30df6ecd47e4abd4d8e     # main after chart 4.3.2 (JupyterHub 5.5.0)
release=9dba5197ea8cdb6bcc662fd037f57f0e73f2aa3e  # the chart 4.3.2 release commit
show() { git -C "$src" show "$1:$2" >"$3"; }
mkdir -p "$dest/hub" "$dest/templates" "$dest/chart-4.3.2"
show $main LICENSE "$dest/LICENSE"
show $main jupyterhub/values.yaml "$dest/values.yaml"
show $main jupyterhub/values.schema.yaml "$dest/values.schema.yaml"
show $main jupyterhub/files/hub/jupyterhub_config.py "$dest/hub/jupyterhub_config.py"
show $main jupyterhub/files/hub/z2jh.py "$dest/hub/z2jh.py"
show $main images/hub/requirements.txt "$dest/hub/requirements.txt"
show $main images/hub/Dockerfile "$dest/hub/Dockerfile"
for t in configmap deployment netpol secret service; do
  show $main "jupyterhub/templates/hub/$t.yaml" "$dest/templates/hub-$t.yaml"
done
show $release jupyterhub/values.yaml "$dest/chart-4.3.2/values.yaml"
show $release jupyterhub/values.schema.yaml "$dest/chart-4.3.2/values.schema.yaml"
show $release images/hub/requirements.txt "$dest/chart-4.3.2/requirements.txt"
show $release images/hub/Dockerfile "$dest/chart-4.3.2/hub-Dockerfile"
