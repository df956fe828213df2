#!/bin/bash
# In a job of .gitlab-ci.yml: the artifacts of the job it needs arrived in this job's copy of
# the checkout, as GitLab (or gitlab-ci-local) passes them. One check, in
# $XA_OUT/report/gitlab-artifacts.checks; exit 1 when a path is missing or empty.
# Usage: ci/check-artifacts.sh JOB PATH...   (PATHs relative to the checkout)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$here/lib.sh"

[ $# -ge 2 ] || xa_die "usage: ci/check-artifacts.sh JOB PATH..."
job=$1
shift
missing=()
for p in "$@"; do
    # A file with content, or a directory with at least one entry.
    if [ -d "$XA_TOP/$p" ]; then
        [ -n "$(ls -A "$XA_TOP/$p")" ] || missing+=("$p (empty)")
    else
        [ -s "$XA_TOP/$p" ] || missing+=("$p")
    fi
done
name="artifacts of job $job arrived in job ${CI_JOB_NAME:-?}"
if [ ${#missing[@]} -eq 0 ]; then
    xa_check gitlab-artifacts "$name" pass "$*"
else
    xa_check gitlab-artifacts "$name" fail "missing: ${missing[*]}"
    exit 1
fi
