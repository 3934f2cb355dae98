#!/usr/bin/env bash
# Runs one experiment as a Slurm job array: task k of N runs the k-th slice of the trial list into
# its own store, and a last job merges the stores.
#
#   sbatch --array=1-8 scripts/slurm-array.sh my-sweep.yaml         # 8 shards
#   sbatch --dependency=afterok:<array job id> --wrap \
#     "npx featlab merge results/shard-*.db --db results/featlab.db"  # then fold them into one store
#
# Each task may be rerun (or requeued after preemption): stored trials are skipped.
# FEATLAB (default: npx featlab) is the command that runs featlab; RESULTS (default: results) the folder.
#SBATCH --job-name=featlab
#SBATCH --cpus-per-task=2
#SBATCH --output=results/slurm-%A_%a.out
set -euo pipefail
spec="${1:?usage: sbatch --array=1-N scripts/slurm-array.sh SPEC}"
count="${SLURM_ARRAY_TASK_COUNT:?run this through sbatch --array}"
index="${SLURM_ARRAY_TASK_ID:?run this through sbatch --array}"
# Task ids may start at 0 or 1; shards are numbered from 1.
first="${SLURM_ARRAY_TASK_MIN:-1}"
shard=$((index - first + 1))
results="${RESULTS:-results}"
mkdir -p "$results"
# shellcheck disable=SC2086 # FEATLAB may be a command with arguments
exec ${FEATLAB:-npx featlab} run "$spec" --shard "${shard}/${count}" --threads "${SLURM_CPUS_PER_TASK:-1}" --db "${results}/shard-${shard}.db" --quiet
