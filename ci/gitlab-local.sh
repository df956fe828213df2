#!/bin/bash
# Run .gitlab-ci.yml on this machine with gitlab-ci-local (the npm package, version pinned:
# 4.60.1 is the newest that runs on Node.js 20), shell executor, each job in its own copy
# of the checkout (--shell-isolation), artifacts passed between jobs as GitLab does.
# Usage: ci/gitlab-local.sh [GITLAB-CI-LOCAL ARGS...]   (env: XA_GITLAB_CONCURRENCY, default 2)
#   ci/gitlab-local.sh --list            the job graph (jobs, stages, needs)
#   ci/gitlab-local.sh                   the whole graph (as root, like ci/pipeline.sh)
#   ci/gitlab-local.sh packages          one job and what it needs (--needs is implied)
# The tool is installed once per machine into $XA_CACHE/gitlab-ci-local-VERSION (npm
# builds its re2 addon from source: a few minutes the first time), under a lock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

version=4.60.1
prefix=$XA_CACHE/gitlab-ci-local-$version
bin=$prefix/node_modules/.bin/gitlab-ci-local

command -v npm >/dev/null || xa_die "gitlab-local: npm not found (Node.js 20 and npm are needed)"
command -v rsync >/dev/null || "$here/install-deps.sh" gitlab >&2

has_tool() { [ -x "$1/node_modules/.bin/gitlab-ci-local" ]; }
install_tool() {
    mkdir -p "$1"
    xa_say "gitlab-local: npm install gitlab-ci-local@$version (builds re2: a few minutes)"
    (cd "$1" && npm install --no-audit --no-fund --loglevel=error "gitlab-ci-local@$version" >&2)
}
xa_cache_build --check has_tool "gitlab-ci-local-$version" "$prefix" install_tool

cd "$XA_TOP"
# The jobs use this run's cache (the file's XA_CACHE is the default one). Two jobs at a
# time on this 2-core machine (the boot matrix would otherwise start nine QEMUs at once).
args=(--force-shell-executor --shell-isolation --variable "XA_CACHE=$XA_CACHE"
    --concurrency "${XA_GITLAB_CONCURRENCY:-2}")
if [ $# -gt 0 ] && [[ $1 != -* ]]; then args+=(--needs); fi
# Each job has its own layout below its own copy of the checkout: not this shell's out/ or
# ccache base directory (ci/lib.sh exported them).
exec env -u XA_OUT -u CCACHE_BASEDIR "$bin" "${args[@]}" "$@"
