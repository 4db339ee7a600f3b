#!/usr/bin/env bats
# MultiGoal: the optimal soft policy at the origin is multimodal (four goals).
# ParPI-jsd, trained with the MultiGoal preset (SQL's example set-up: reward
# scale 0.1, temperature 1, 2 x 128), reaches at least 3 of the 4 goals across
# 50 rollouts of its STOCHASTIC policy from the origin (init_sigma=0). SAC,
# trained the same way, is run for comparison and its count printed.

load ../cli/helpers

setup() {
    need_progs parpi-critic parpi-policy parpi-langevin parpi-discrim
}

# "goals_reached N" and "goal_counts a b c d" of 50 stochastic rollouts from the origin
rollouts() {
    parpi-eval --env MultiGoal --env-options init_sigma=0 --policy "$1/ckpt/policy.ckpt" \
        --episodes 50 --stochastic --seed 5
}

@test "MultiGoal: ParPI-jsd reaches at least 3 of the 4 goals (SAC printed for comparison)" {
    parpi-train --env MultiGoal --algo parpi --divergence jsd --steps 8000 --seed 0 --in-process \
        --no-progress --out "$T/parpi"
    out=$(rollouts "$T/parpi")
    goals=$(echo "$out" | awk '$1 == "goals_reached" {print $2}')
    counts=$(echo "$out" | awk '$1 == "goal_counts" {print $2, $3, $4, $5}')
    echo "# ParPI-jsd: $goals goals reached; rollouts ending in goals (5,0) (-5,0) (0,5) (0,-5): $counts" >&3

    parpi-train --env MultiGoal --algo sac --steps 8000 --seed 0 --in-process --no-progress --out "$T/sac"
    sout=$(rollouts "$T/sac")
    echo "# SAC (comparison): $(echo "$sout" | awk '$1 == "goals_reached" {print $2}') goals reached;" \
        "per goal: $(echo "$sout" | awk '$1 == "goal_counts" {print $2, $3, $4, $5}')" >&3

    [ "$goals" -ge 3 ]
}
