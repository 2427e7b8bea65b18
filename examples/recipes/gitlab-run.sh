#!/bin/sh
# GitLab Runner custom executor, `run_exec` stage: runs each job step under logmask.
#
#   config.toml:  [runners.custom]  run_exec = "/usr/local/bin/gitlab-run.sh"
#
# The runner calls it as `gitlab-run.sh SCRIPT STAGE` with the job's variables in the
# environment, prefixed CUSTOM_ENV_. logmask masks CI_JOB_TOKEN and every variable named
# in LOGMASK_VARIABLES (space-separated, set in the runner's `environment`: the names of
# the project's masked variables), in the step's stdout and stderr alike, with their
# encoded forms and the well-known token shapes. The step's exit status is the script's:
# the runner sees the job fail as before (GitLab's BUILD_FAILURE_EXIT_CODE is left to the
# runner's own wrapper, if any). A variable not set for this job is skipped, so a list
# shared by many projects works.
set -eu
script=$1
set -- -e CUSTOM_ENV_CI_JOB_TOKEN
for name in ${LOGMASK_VARIABLES:-}; do
    if [ -n "$(printenv "CUSTOM_ENV_$name" || true)" ]; then
        set -- "$@" -e "CUSTOM_ENV_$name"
    fi
done
exec "${LOGMASK:-logmask}" "$@" -- /bin/bash "$script"
